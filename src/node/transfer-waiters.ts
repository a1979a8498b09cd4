import type { CoreStatus } from '../core/raft.js';
import { RaftError } from '../errors.js';

/** Callers of `leadershipTransfer()` waiting for the outcome. */
export class TransferWaiters {
  private waiters: Array<{ resolve(): void; reject(err: RaftError): void }> = [];

  /** Waits until this node stops leading (done) or the transfer is abandoned (rejects). */
  wait(): Promise<void> {
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Settles the waiters once the core's status shows the transfer's outcome. */
  settle(status: Pick<CoreStatus, 'role' | 'transferTarget'>): void {
    if (this.waiters.length === 0) return;
    if (status.role !== 'leader') {
      for (const w of this.take()) w.resolve();
    } else if (status.transferTarget === null) {
      const err = new RaftError(
        'TIMEOUT',
        'leadership transfer abandoned: the target did not take over in time',
        {
          retryable: true,
        },
      );
      for (const w of this.take()) w.reject(err);
    }
  }

  rejectAll(err: RaftError): void {
    for (const w of this.take()) w.reject(err);
  }

  private take(): Array<{ resolve(): void; reject(err: RaftError): void }> {
    const waiters = this.waiters;
    this.waiters = [];
    return waiters;
  }
}
