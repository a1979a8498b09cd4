import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { eachYielding } from '../../src/node/yielding.js';

/** Holds the event loop for `ms`, as a slow synchronous apply would. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

describe('eachYielding (design §7: large work yields the event loop)', () => {
  it('lets a due timer run between items once a slice is used up', async () => {
    const events: string[] = [];
    setTimeout(() => events.push('timer'), 0);
    await eachYielding(
      [1, 2, 3, 4],
      (i) => {
        events.push(`item ${i}`);
        busy(15);
      },
      systemClock,
    );
    expect(events.indexOf('timer')).toBeGreaterThan(0);
    expect(events.indexOf('timer')).toBeLessThan(events.length - 1);
  });

  it('runs every item once, in order, awaiting async work', async () => {
    const seen: number[] = [];
    await eachYielding(
      [1, 2, 3],
      async (i) => {
        await Promise.resolve();
        seen.push(i);
      },
      systemClock,
    );
    expect(seen).toEqual([1, 2, 3]);
  });
});
