/**
 * How open() waits for the node (src/binding/join.ts, waitUntil): a check every 10 ms on a clock
 * that moves only when the test advances it, and at once on every wake (a node event).
 */
import { describe, expect, it, vi } from 'vitest';
import { type Wake, waitUntil } from '../../src/binding/join.js';
import { expectTimeout, flush, manualClock, tick, track } from '../support/manual-clock.js';

/** waitUntil at time 1000 on a condition the test flips, counting its checks and the timers set. */
async function waiting(deadline: number, holds = false) {
  const clock = manualClock();
  const timers = vi.spyOn(clock, 'setTimeout');
  const cleared = vi.spyOn(clock, 'clearTimeout');
  const state = { holds, checks: 0 };
  const condition = () => {
    state.checks++;
    return state.holds;
  };
  const wakes = new Set<() => void>();
  const wake: Wake = (listener) => {
    wakes.add(listener);
    return () => wakes.delete(listener);
  };
  const fate = track(waitUntil(clock, condition, deadline, 'x', wake));
  await flush();
  /** Fires the wake, as a node event would, and lets the wait run. */
  const event = async () => {
    for (const listener of [...wakes]) listener();
    await flush();
  };
  return { clock, timers, cleared, state, fate, wakes, event };
}

describe('waitUntil', () => {
  it('resolves at once, with no timer, when the condition holds, even past the deadline', async () => {
    const w = await waiting(1000, true);
    expect(w.fate).toEqual({ done: true, value: undefined });
    expect(w.timers).not.toHaveBeenCalled();
  });

  it('checks again every 10 ms on the clock until the condition holds', async () => {
    const w = await waiting(5000);
    expect(w.state.checks).toBe(1);
    expect(w.timers.mock.calls.map(([, ms]) => ms)).toEqual([10]);
    await tick(w.clock, 9);
    expect(w.state.checks).toBe(1);
    await tick(w.clock, 1);
    expect(w.state.checks).toBe(2);
    w.state.holds = true;
    await tick(w.clock);
    expect(w.fate).toEqual({ done: true, value: undefined });
    expect(w.timers.mock.calls.map(([, ms]) => ms)).toEqual([10, 10]);
  });

  // Checks run at 1000, 1010, 1020: a deadline of 1010 ends the wait at the second, 1011 at the third.
  it.each([
    { deadline: 1010, checks: 2 },
    { deadline: 1011, checks: 3 },
  ])('fails with TIMEOUT at the first check at or after deadline $deadline', async ({ deadline, checks }) => {
    const w = await waiting(deadline);
    for (let i = 1; i < checks; i++) {
      expect(w.fate.done).toBe(false);
      await tick(w.clock);
    }
    expect(w.state.checks).toBe(checks);
    expectTimeout(w.fate, 'open: timed out waiting for x');
    expect(w.wakes.size).toBe(0);
  });

  it('checks again on a wake without waiting out the 10 ms, and unsubscribes once it holds', async () => {
    const w = await waiting(5000);
    expect(w.wakes.size).toBe(1);
    await tick(w.clock, 3);
    await w.event();
    expect(w.state.checks).toBe(2);
    w.state.holds = true;
    await w.event();
    expect(w.fate).toEqual({ done: true, value: undefined });
    expect(w.state.checks).toBe(3);
    expect(w.wakes.size).toBe(0);
    // Each woken wait's timer was cleared, not left to fire.
    expect(w.cleared).toHaveBeenCalledTimes(2);
  });
});
