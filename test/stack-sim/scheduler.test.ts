import { describe, expect, it } from 'vitest';
import { ProcessClock, SimScheduler } from './scheduler.js';

describe('the simulated clock', () => {
  it('fires timers in time order, equal times in the order they were set, and lets promise work run between', async () => {
    const scheduler = new SimScheduler();
    const clock = scheduler.clock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      // Promise work a timer starts finishes before the next timer, at the same instant.
      void Promise.resolve().then(() => fired.push(`a-then@${clock.now()}`));
    }, 10);
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 20);
    const cancelled = clock.setTimeout(() => fired.push('never'), 15);
    clock.clearTimeout(cancelled);
    await scheduler.runUntil(() => false, 100);
    expect(fired).toEqual(['a@10', 'a-then@10', 'b@20', 'c@20']);
    expect(scheduler.now).toBe(100);
  });

  it('stops as soon as the condition holds, without passing the time of the next timer', async () => {
    const scheduler = new SimScheduler();
    const clock = scheduler.clock();
    let ticks = 0;
    clock.setInterval(() => ticks++, 10);
    expect(await scheduler.runUntil(() => ticks === 3, 1000)).toBe(true);
    expect(scheduler.now).toBe(30);
    expect(await scheduler.runUntil(() => ticks === 100, 60)).toBe(false);
    expect(ticks).toBe(6);
  });

  it('a killed process clock fires none of its timers, even ones set later', async () => {
    const scheduler = new SimScheduler();
    const process = new ProcessClock(scheduler);
    const fired: string[] = [];
    process.setInterval(() => fired.push(`tick@${scheduler.now}`), 10);
    process.setTimeout(() => fired.push('timeout'), 25);
    await scheduler.runUntil(() => false, 15);
    process.kill();
    process.setTimeout(() => fired.push('after death'), 1);
    await scheduler.runUntil(() => false, 100);
    expect(fired).toEqual(['tick@10']);
  });

  it('a paused process clock holds the timers that come due and runs them on resume', async () => {
    const scheduler = new SimScheduler();
    const process = new ProcessClock(scheduler);
    const fired: string[] = [];
    process.setTimeout(() => fired.push(`a@${scheduler.now}`), 10);
    const cleared = process.setTimeout(() => fired.push('cleared while held'), 20);
    process.setTimeout(() => fired.push(`b@${scheduler.now}`), 30);
    process.pause();
    await scheduler.runUntil(() => false, 25);
    expect(fired).toEqual([]);
    process.clearTimeout(cleared);
    process.resume();
    await scheduler.runUntil(() => false, 40);
    expect(fired).toEqual(['a@25', 'b@30']);
  });
});
