import type { ReadState } from '../core/ready.js';
import { RaftError } from '../errors.js';

interface ReadWaiter {
  resolve(index: number): void;
  reject(err: RaftError): void;
  /** Set once the leader confirmed the read: it completes when this much is applied. */
  index: number | null;
}

/**
 * Linearizable reads in flight: first the leader confirms its leadership (a ReadState arrives),
 * then the read waits until this node has applied up to the confirmed index.
 */
export class ReadWaiters {
  private readonly waiters = new Map<number, ReadWaiter>();
  private nextId = 1;

  constructor(private readonly appliedIndex: () => number) {}

  create(): { id: number; promise: Promise<number> } {
    const id = this.nextId++;
    const promise = new Promise<number>((resolve, reject) => {
      this.waiters.set(id, { resolve, reject, index: null });
    });
    return { id, promise };
  }

  cancel(id: number): void {
    this.waiters.delete(id);
  }

  /** The core reported read outcomes. */
  answered(states: readonly ReadState[]): void {
    for (const state of states) {
      const waiter = this.waiters.get(state.requestId);
      if (waiter === undefined) continue;
      if (state.ok) {
        waiter.index = state.index;
      } else {
        this.waiters.delete(state.requestId);
        waiter.reject(
          new RaftError('LEADERSHIP_LOST', 'the read could not be confirmed by a leader; retry', {
            retryable: true,
          }),
        );
      }
    }
  }

  /** Completes confirmed reads that the applied index has reached. */
  appliedTo(): void {
    const applied = this.appliedIndex();
    for (const [id, waiter] of this.waiters) {
      if (waiter.index !== null && waiter.index <= applied) {
        this.waiters.delete(id);
        waiter.resolve(waiter.index);
      }
    }
  }

  rejectAll(err: RaftError): void {
    for (const waiter of this.waiters.values()) waiter.reject(err);
    this.waiters.clear();
  }
}
