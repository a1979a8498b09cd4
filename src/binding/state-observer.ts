import { RaftError } from '../errors.js';
import { copyBytes } from '../storage/bytes.js';
import { Fifo } from './fifo.js';
import type { Input } from './input.js';

/** Changes delivered as one unit: a replay or a restore's difference. The array is shared, never mutated. */
interface Batch {
  readonly kind: 'replay' | 'restore';
  readonly inputs: readonly Input[];
  next: number;
}

type Pending = Input | Batch;

function isBatch(p: Pending): p is Batch {
  return 'inputs' in p;
}

/**
 * One consumer of the FSM's state changes: an async iterator over a bounded queue of its own. The
 * FSM pushes synchronously and never waits for it.
 *
 * Bounds: at most `limit` changes from applies may wait in the queue. Besides them it holds the
 * replay it started with and at most one restore difference; both are arrays shared with other
 * observers and bounded by the state's size, so they do not count against the limit (a large
 * snapshot install must not end every observer). A change beyond the limit, or a second restore
 * while the first one's difference is still undelivered, is an overflow: the observer is detached,
 * delivers what it had queued, then its iterator throws `OBSERVER_OVERFLOW` at the point of the
 * gap. Call `observe()` again for a fresh replay.
 */
export class StateObserver implements AsyncIterableIterator<Input> {
  private readonly queue = new Fifo<Pending>();
  private live = 0;
  private restores = 0;
  private readonly waiters: ((result: IteratorResult<Input>) => void)[] = [];
  private failure: RaftError | null = null;
  /** No more changes will arrive: deliver what is queued (and the failure, if any), then finish. */
  private detached = false;
  private readonly onAbort = (): void => this.finishNow();

  constructor(
    private readonly limit: number,
    replay: readonly Input[],
    private readonly onDetach: (observer: StateObserver) => void,
    private readonly signal?: AbortSignal,
  ) {
    if (replay.length > 0) this.queue.push({ kind: 'replay', inputs: replay, next: 0 });
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Queues one applied change, or overflows. */
  push(input: Input): void {
    if (this.detached) return;
    if (this.live >= this.limit) {
      this.overflow(`fell more than ${this.limit} changes behind`);
      return;
    }
    this.queue.push(input);
    this.live += 1;
    this.wake();
  }

  /** Queues a restore's difference as one unit, or overflows. */
  pushRestore(inputs: readonly Input[]): void {
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

  next(): Promise<IteratorResult<Input>> {
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
  return(): Promise<IteratorResult<Input>> {
    this.finishNow();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Input> {
    return this;
  }

  private overflow(reason: string): void {
    this.failure = new RaftError(
      'OBSERVER_OVERFLOW',
      `state observer ${reason}; call observe() again for a fresh replay`,
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

  private take(): Input | undefined {
    const head = this.queue.peek();
    if (head === undefined) return undefined;
    if (!isBatch(head)) {
      this.queue.shift();
      this.live -= 1;
      return copyInput(head);
    }
    const input = head.inputs[head.next];
    head.next += 1;
    if (head.next >= head.inputs.length) {
      this.queue.shift();
      if (head.kind === 'restore') this.restores -= 1;
    }
    return input === undefined ? undefined : copyInput(input);
  }
}

/** A fresh object with its own bytes: a consumer that mutates what it got cannot touch the state. */
function copyInput(input: Input): Input {
  return input.op === 'set'
    ? { op: 'set', key: input.key, value: copyBytes(input.value) }
    : { op: 'delete', key: input.key };
}
