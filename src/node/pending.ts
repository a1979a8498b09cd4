import type { Entry } from '../core/types.js';
import { RaftError } from '../errors.js';

interface Waiter {
  readonly term: number;
  resolve(value: { index: number; response: unknown }): void;
  reject(err: RaftError): void;
}

/**
 * Proposals waiting for their entry to be applied. An entry's fate is known exactly once its index
 * is applied: the same term means it committed; another term means it was overwritten and never
 * will. Losing leadership decides nothing, since the next leader may still commit the entry, so
 * waiters are kept until their index is applied, their deadline passes, or the node shuts down.
 */
export class PendingProposals {
  private readonly waiters = new Map<number, Waiter>();

  /** Waits for the entry proposed at `index` in `term`. */
  wait(index: number, term: number): Promise<{ index: number; response: unknown }> {
    return new Promise((resolve, reject) => {
      this.waiters.set(index, { term, resolve, reject });
    });
  }

  /** `entry` was applied with `response` from the FSM. */
  applied(entry: Entry, response: unknown): void {
    const waiter = this.waiters.get(entry.index);
    if (waiter === undefined) return;
    this.waiters.delete(entry.index);
    if (waiter.term === entry.term) waiter.resolve({ index: entry.index, response });
    else {
      waiter.reject(
        new RaftError('LEADERSHIP_LOST', `the entry at ${entry.index} was replaced by a newer leader`, {
          retryable: true,
        }),
      );
    }
  }

  /** A snapshot moved the state past every index up to `index`: their fate is unknown here. */
  skippedTo(index: number): void {
    for (const [i, waiter] of this.waiters) {
      if (i > index) continue;
      this.waiters.delete(i);
      waiter.reject(
        new RaftError(
          'LEADERSHIP_LOST',
          `a snapshot replaced the log up to ${index}; the outcome is unknown`,
          {
            retryable: true,
            indefinite: true,
          },
        ),
      );
    }
  }

  /** Gives up on `index` (deadline or abort); the entry may still commit. */
  abandon(index: number, err: RaftError): void {
    const waiter = this.waiters.get(index);
    if (waiter === undefined) return;
    this.waiters.delete(index);
    waiter.reject(err);
  }

  /** Fails everything (shutdown). */
  rejectAll(err: RaftError): void {
    for (const waiter of this.waiters.values()) waiter.reject(err);
    this.waiters.clear();
  }

  get size(): number {
    return this.waiters.size;
  }
}
