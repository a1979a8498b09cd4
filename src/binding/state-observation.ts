import type { Input } from './input.js';

/**
 * A change to the state with the log index it belongs to: the entry that made it, the snapshot
 * whose restore made it, or, for a replayed `set`, the index the replayed state reflects.
 */
export interface AppliedChange {
  readonly index: number;
  readonly input: Input;
}

/** The whole state and the log index it reflects, taken at one instant. */
export interface StateCapture {
  readonly index: number;
  readonly state: Map<string, Uint8Array>;
  /**
   * The group's own settings at the same index (its voter budget, which members may be promoted),
   * in key order: kept apart from the state and never observed, but part of what a backup must
   * carry for a restored group to behave as the old one did.
   */
  readonly settings: Map<string, Uint8Array>;
}

/** Where an indexed observation starts. */
export interface IndexedObserveOptions {
  /** Ends the iteration at once. */
  signal?: AbortSignal | undefined;
  /**
   * Resume after this index instead of replaying the state: only changes at later indexes are
   * delivered. Refused with `UNSUPPORTED` when the state has changed since: the state keeps no
   * history, so those changes cannot be delivered.
   */
  fromIndex?: number | undefined;
}

/** An indexed stream of state changes: a replay (unless resumed), then live changes. */
export interface StateObservation {
  /** The index the replay reflects (or `fromIndex`, if higher); every live change has a higher index. */
  readonly index: number;
  /** How many of the first changes are the replay (one `set` per key); 0 when resumed. */
  readonly replayed: number;
  readonly changes: AsyncIterableIterator<AppliedChange>;
}

/**
 * The items of `source` that `keep` accepts, passed through `map`; `return()` ends the source at
 * once, as `for await … break` expects.
 */
export function mapObserver<T, U>(
  source: AsyncIterableIterator<T>,
  map: (item: T) => U,
  keep: (item: T) => boolean = () => true,
): AsyncIterableIterator<U> {
  const iterator: AsyncIterableIterator<U> = {
    async next(): Promise<IteratorResult<U>> {
      for (;;) {
        const result = await source.next();
        if (result.done === true) return { value: undefined, done: true };
        if (keep(result.value)) return { value: map(result.value), done: false };
      }
    },
    async return(): Promise<IteratorResult<U>> {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
