import { RaftError } from '../errors.js';
import { Fifo } from './fifo.js';

/** Changes delivered as one unit: a replay or a restore's difference. The array is shared, never mutated. */
interface Batch<T> {
  readonly kind: 'replay' | 'restore';
  readonly inputs: readonly T[];
  next: number;
}

/** A queued change, or a batch of them; the `batch` wrapper keeps the two apart whatever `T` is. */
type Pending<T> = { readonly one: T } | Batch<T>;

function isBatch<T>(p: Pending<T>): p is Batch<T> {
  return 'inputs' in p;
}

/** How an {@link ObserverQueue} starts and what it calls. */
export interface ObserverQueueOptions<T> {
  /** Changes from live pushes that may wait; one more is an overflow. */
  readonly limit: number;
  /** What the observer sees first (the state or the members now). */
  readonly replay: readonly T[];
  /** Called once when the queue stops taking changes, so its producer can forget it. */
  readonly onDetach: (queue: ObserverQueue<T>) => void;
  /** Ends the iteration at once, dropping what is queued. */
  readonly signal?: AbortSignal | undefined;
  /** Copies a change on its way out, so a consumer cannot mutate what others receive. */
  readonly copy?: (item: T) => T;
  /** Names the observer in its overflow error. */
  readonly what: string;
}

/**
 * One consumer of a stream of changes (state or membership): an async iterator over a bounded queue
 * of its own. Producers push synchronously and never wait for it; any number of `next()` calls may
 * be pending, and each is answered in order.
 *
 * Bounds: at most `limit` changes from live pushes may wait in the queue. Besides them it holds the
 * replay it started with and at most one restore difference; both are arrays shared with other
 * observers and bounded by the state's size, so they do not count against the limit (a large
 * snapshot install must not end every observer). A change beyond the limit, or a second restore
 * while the first one's difference is still undelivered, is an overflow: the observer is detached,
 * delivers what it had queued, then its iterator throws `OBSERVER_OVERFLOW` at the point of the
 * gap. Observe again for a fresh replay.
 */
export class ObserverQueue<T> implements AsyncIterableIterator<T> {
  private readonly queue = new Fifo<Pending<T>>();
  private live = 0;
  private restores = 0;
  private readonly waiters: ((result: IteratorResult<T>) => void)[] = [];
  private failure: RaftError | null = null;
  /** No more changes will arrive: deliver what is queued (and the failure, if any), then finish. */
  private detached = false;
  private readonly onAbort = (): void => this.finishNow();
  private readonly limit: number;
  private readonly onDetach: (queue: ObserverQueue<T>) => void;
  private readonly signal: AbortSignal | undefined;
  private readonly copy: (item: T) => T;
  private readonly what: string;

  constructor(options: ObserverQueueOptions<T>) {
    this.limit = options.limit;
    this.onDetach = options.onDetach;
    this.signal = options.signal;
    this.copy = options.copy ?? ((item) => item);
    this.what = options.what;
    if (options.replay.length > 0) this.queue.push({ kind: 'replay', inputs: options.replay, next: 0 });
    // A signal aborted before the call ends the iteration at once, as one aborted later would.
    if (this.signal?.aborted === true) this.finishNow();
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** True once the queue takes no more changes. */
  get isDetached(): boolean {
    return this.detached;
  }

  /** Queues one change, or overflows. */
  push(input: T): void {
    if (this.detached) return;
    if (this.live >= this.limit) {
      this.overflow(`fell more than ${this.limit} changes behind`);
      return;
    }
    this.queue.push({ one: input });
    this.live += 1;
    this.wake();
  }

  /** Queues a restore's difference as one unit, or overflows. */
  pushRestore(inputs: readonly T[]): void {
    if (this.detached || inputs.length === 0) return;
    if (this.restores > 0) {
      this.overflow('had not consumed the previous snapshot restore when another one arrived');
      return;
    }
    this.queue.push({ kind: 'restore', inputs, next: 0 });
    this.restores += 1;
    this.wake();
  }

  /** Ends the iteration once the queued changes are delivered. */
  close(): void {
    this.detach();
    this.wake();
  }

  next(): Promise<IteratorResult<T>> {
    const input = this.take();
    if (input !== undefined) return Promise.resolve({ value: input, done: false });
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      return Promise.reject(failure);
    }
    if (this.detached) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Called by `for await` on `break`: stops at once, dropping what is queued. */
  return(): Promise<IteratorResult<T>> {
    this.finishNow();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private overflow(reason: string): void {
    this.failure = new RaftError(
      'OBSERVER_OVERFLOW',
      `${this.what} ${reason}; observe again for a fresh replay`,
      {
        retryable: true,
      },
    );
    this.detach();
  }

  /** Abort or return: nothing more is delivered. */
  private finishNow(): void {
    this.queue.clear();
    this.live = 0;
    this.restores = 0;
    this.failure = null;
    this.detach();
    this.wake();
  }

  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.onDetach(this);
  }

  /** Hands queued changes to waiting readers; once detached and drained, tells the rest they are done. */
  private wake(): void {
    while (this.waiters.length > 0) {
      const input = this.take();
      if (input === undefined) break;
      this.waiters.shift()?.({ value: input, done: false });
    }
    if (!this.detached || this.queue.size > 0) return;
    // Readers wait only on an empty queue, which can only overflow after they are served; so a
    // failure here is never owed to a waiter, and the rest are simply done.
    for (const resolve of this.waiters.splice(0)) resolve({ value: undefined, done: true });
  }

  private take(): T | undefined {
    const head = this.queue.peek();
    if (head === undefined) return undefined;
    if (!isBatch(head)) {
      this.queue.shift();
      this.live -= 1;
      return this.copy(head.one);
    }
    const input = head.inputs[head.next];
    head.next += 1;
    if (head.next >= head.inputs.length) {
      this.queue.shift();
      if (head.kind === 'restore') this.restores -= 1;
    }
    return input === undefined ? undefined : this.copy(input);
  }
}
