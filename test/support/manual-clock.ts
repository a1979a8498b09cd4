/**
 * Time on fakes: a clock whose timers fire only when the test moves it, and helpers to see what
 * promise-driven code did without sleeping. Shared by the proposer's and join.ts's unit tests.
 */
import { expect } from 'vitest';
import type { Clock, ClockTimer } from '../../src/clock.js';
import { RaftError } from '../../src/errors.js';

/** Lets every queued promise reaction run: the code under test waits on nothing but promises here. */
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock that starts at 1000 and fires its timers only in {@link advance}. */
export function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1000;
  let last = 0;
  const timers = new Map<number, { at: number; fire: () => void }>();
  return {
    now: () => now,
    setTimeout: (fire, ms) => {
      timers.set(++last, { at: now + ms, fire });
      // The handle is only ever given back to clearTimeout, which reads the id.
      return { id: last } as ClockTimer;
    },
    clearTimeout: (timer: ClockTimer) => void timers.delete((timer as { id: number }).id),
    setInterval: () => {
      throw new Error('the code under test sets no intervals');
    },
    clearInterval: () => undefined,
    advance: (ms) => {
      now += ms;
      for (const [id, timer] of [...timers]) {
        if (timer.at > now) continue;
        timers.delete(id);
        timer.fire();
      }
    },
  };
}

/** A promise's fate, readable without awaiting it: a call that never settles fails the test, not hangs it. */
export function track<T>(promise: Promise<T>): { done: boolean; value?: T; error?: unknown } {
  const fate: { done: boolean; value?: T; error?: unknown } = { done: false };
  promise.then(
    (value) => Object.assign(fate, { done: true, value }),
    (error: unknown) => Object.assign(fate, { done: true, error }),
  );
  return fate;
}

/** Moves `clock` on by `ms`, firing the timers due, and lets what they started run. */
export async function tick(clock: ReturnType<typeof manualClock>, ms = 10): Promise<void> {
  clock.advance(ms);
  await flush();
}

/** Asserts that `fate` failed with a `TIMEOUT` RaftError carrying `message`. */
export function expectTimeout(fate: { done: boolean; error?: unknown }, message: string): void {
  expect(fate.error).toBeInstanceOf(RaftError);
  expect(fate.error).toEqual(expect.objectContaining({ code: 'TIMEOUT', message }));
}
