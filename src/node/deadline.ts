import { type Clock, systemClock } from '../clock.js';
import { RaftError } from '../errors.js';

/** Per-call limits: a timeout and an abort signal, both optional. */
export interface CallOptions {
  /** Give up after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** How {@link withDeadline} bounds a call. */
export interface DeadlineOptions {
  /** Names the operation in errors. */
  readonly what: string;
  /** Give up after this many milliseconds. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /**
   * Whether the operation may still take effect after giving up (true once a proposal has been
   * accepted); as a function it is asked at the moment of giving up.
   */
  readonly indefinite: boolean | (() => boolean);
  /** Runs when the call gives up, so the caller can release what it registered. */
  readonly onGiveUp?: (err: RaftError) => void;
  readonly clock?: Clock;
}

/** Races `promise` against a timeout and an abort signal. */
export function withDeadline<T>(promise: Promise<T>, options: DeadlineOptions): Promise<T> {
  const { what, timeoutMs, signal, indefinite } = options;
  const onGiveUp = options.onGiveUp ?? (() => undefined);
  const clock = options.clock ?? systemClock;
  const mayStillHappen = () => (typeof indefinite === 'function' ? indefinite() : indefinite);
  if (signal?.aborted) {
    const err = new RaftError('TIMEOUT', `${what}: aborted`, {
      indefinite: mayStillHappen(),
      cause: signal.reason,
    });
    onGiveUp(err);
    return Promise.reject(err);
  }
  return new Promise<T>((resolve, reject) => {
    const giveUp = (err: RaftError) => {
      cleanup();
      onGiveUp(err);
      reject(err);
    };
    const timer = clock.setTimeout(
      () =>
        giveUp(
          new RaftError('TIMEOUT', `${what}: no outcome within ${timeoutMs} ms`, {
            indefinite: mayStillHappen(),
            retryable: true,
          }),
        ),
      timeoutMs,
    );
    const onAbort = () =>
      giveUp(
        new RaftError('TIMEOUT', `${what}: aborted`, { indefinite: mayStillHappen(), cause: signal?.reason }),
      );
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: cleanup() removes the listener on every path, so `once` only restates it
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
  });
}
