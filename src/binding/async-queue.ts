import { RaftError } from '../errors.js';

/**
 * A bounded queue read as an async iterator. Producers never wait: when the queue is full the
 * reader is ended with `OBSERVER_OVERFLOW` after it has consumed what was queued, so a slow
 * observer loses its subscription instead of stalling consensus or silently skipping changes.
 */
export class BoundedAsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | null = null;
  private ended = false;
  private failure: RaftError | null = null;

  constructor(
    private readonly limit: number,
    private readonly onEnd: () => void,
  ) {}

  /** Adds an item; returns false when the queue overflowed (the reader will be ended). */
  push(item: T): boolean {
    if (this.ended || this.failure !== null) return false;
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.limit) {
      this.failure = new RaftError(
        'OBSERVER_OVERFLOW',
        `observer fell ${this.limit} changes behind; observe again`,
        {
          retryable: true,
        },
      );
      this.onEnd();
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Ends the iteration after the queued items. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    if (this.waiting !== null && this.items.length === 0) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
