/**
 * Captured at load time so that polling and the deadline keep working in tests that install fake
 * timers later: the fakes replace the globals, not these references.
 */
const realSetTimeout = globalThis.setTimeout;
const realNow = Date.now;

/** How often {@link waitFor} re-evaluates its condition. */
const POLL_MS = 5;

/**
 * Waits until `condition` holds, re-checking every few milliseconds, and throws an Error naming
 * `what` when it still does not hold after `timeoutMs`. Tests wait for conditions with this
 * instead of sleeping, so they are as fast as the code allows and fail with a readable reason.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = realNow() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (realNow() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise<void>((resolve) => realSetTimeout(resolve, POLL_MS));
  }
}
