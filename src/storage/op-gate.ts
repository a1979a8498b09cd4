import { RaftError } from '../errors.js';
import { shutdown } from './validate.js';

/**
 * Admits a store's operations while it is open and keeps what `close()` needs: the set of
 * operations in flight (closing waits for them, so none sees the database vanish under it) and a
 * queue that runs writes one at a time (a write reads the log bounds, checks them and writes; two
 * interleaved writes could each pass their check and together break the log).
 */
export class OpGate {
  readonly #name: string;
  #open = false;
  readonly #inflight = new Set<Promise<unknown>>();
  #tail: Promise<unknown> = Promise.resolve();

  constructor(name: string) {
    this.#name = name;
  }

  /** True between {@link admit} and {@link shut}. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Starts admitting operations. */
  admit(): void {
    this.#open = true;
  }

  /** Throws `SHUTDOWN` unless the store is open. */
  assertOpen(): void {
    if (!this.#open) throw shutdown(this.#name);
  }

  /** Runs `op` if the store is open; a failure caused by a concurrent close becomes `SHUTDOWN`. */
  run<T>(op: () => Promise<T>): Promise<T> {
    if (!this.#open) return Promise.reject(shutdown(this.#name));
    return this.#track(op);
  }

  /**
   * Like {@link run}, but after every earlier exclusive operation has finished. An operation
   * admitted before `close()` still runs, even if its turn comes while the store is closing.
   */
  exclusive<T>(op: () => Promise<T>): Promise<T> {
    if (!this.#open) return Promise.reject(shutdown(this.#name));
    const result = this.#track(() => this.#tail.then(op));
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #track<T>(op: () => Promise<T>): Promise<T> {
    // Through a promise constructor so that an op throwing synchronously still yields a rejection.
    const promise = new Promise<T>((resolve) => resolve(op())).catch((err: unknown) => {
      if (this.#open || err instanceof RaftError) throw err;
      throw new RaftError('SHUTDOWN', `${this.#name} closed during the operation`, { cause: err });
    });
    this.#inflight.add(promise);
    const forget = (): void => {
      this.#inflight.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }

  /** Stops admitting operations and waits until those in flight have settled. */
  async shut(): Promise<void> {
    this.#open = false;
    // Queued exclusive operations are in the set too, so this also waits for them to run.
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }
}
