/** How long a run of work may hold the event loop before it lets timers and I/O in. */
const SLICE_MS = 10;

/**
 * Runs `work` on each item in order, giving the event loop a turn (a macrotask: timers, sockets)
 * whenever the run so far took longer than a slice. A Ready can carry up to `maxApplyPerReady`
 * committed entries; applying them back to back used to hold the loop for as long as that took,
 * delaying heartbeats (design §7: large work yields the event loop).
 */
export async function eachYielding<T>(items: readonly T[], work: (item: T) => unknown): Promise<void> {
  let sliceStart = performance.now();
  for (const item of items) {
    await work(item);
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}
