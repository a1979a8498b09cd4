import { type Clock, sleep } from '../clock.js';

/** How long a run of work may hold the event loop before it lets timers and I/O in. */
const SLICE_MS = 10;

/**
 * Runs `work` on each item in order, giving the event loop a turn (a macrotask: timers, sockets)
 * whenever the run so far took longer than a slice. A Ready can carry up to `maxApplyPerReady`
 * committed entries; applying them back to back used to hold the loop for as long as that took,
 * delaying heartbeats (design §7: large work yields the event loop).
 */
export async function eachYielding<T>(
  items: readonly T[],
  work: (item: T) => unknown,
  clock: Clock,
): Promise<void> {
  let sliceStart = clock.now();
  for (const item of items) {
    await work(item);
    if (clock.now() - sliceStart > SLICE_MS) {
      // A zero-delay timer of the node's clock: a macrotask on the system clock (about 1 ms, once
      // per slice of 10), and a step of simulated time in a simulation.
      await sleep(clock, 0);
      sliceStart = clock.now();
    }
  }
}
