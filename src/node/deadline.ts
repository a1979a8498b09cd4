import { RaftError } from '../errors.js';

/** Per-call limits: a timeout and an abort signal, both optional. */
export interface CallOptions {
  /** Give up after this many milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Races `promise` against the call's timeout and abort signal. `onGiveUp` runs when the call gives
 * up, so the caller can release what it registered. `indefinite` says whether the operation may
 * still take effect after giving up (true once a proposal has been accepted); as a function it is
 * asked at the moment of giving up.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  options: CallOptions,
  defaultTimeoutMs: number,
  what: string,
  indefinite: boolean | (() => boolean),
  onGiveUp: (err: RaftError) => void = () => undefined,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const { signal } = options;
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
    const timer = setTimeout(
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
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
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
