/** A promise that the test settles from outside, for holding a handler at a chosen point. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
  fail(err: unknown): void;
}

/** Creates a closed {@link Gate}. */
export function gate(): Gate {
  let open: () => void = () => undefined;
  let fail: (err: unknown) => void = () => undefined;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  // A gate that fails with nobody waiting on it must not count as an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, open, fail };
}

/** Settles to the rejection reason of `promise`; throws when it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection, but the promise resolved');
    },
    (err: unknown) => err,
  );
}
