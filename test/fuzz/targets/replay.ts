/**
 * Fuzz target of the replay window of sealed envelopes (src/transport/replay-window.ts): counters
 * of several senders and incarnations in any order, with jumps up to 2^53.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CounterWindow, ReplayGuard, type ReplayLimits } from '../../../src/transport/replay-window.js';
import type { FuzzTarget } from '../support/target.js';

interface Arrival {
  readonly sender: string;
  /** Its incarnation; also its start time, so later incarnations started later. */
  readonly incarnation: number;
  readonly n: number;
}

const LIMITS: ReplayLimits = { window: 64, incarnations: 3, senders: 2 };

const counter = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 200 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }) },
);

const arrivals = fc.array(
  fc.record({ sender: fc.constantFrom('a', 'b', 'c'), incarnation: fc.nat({ max: 4 }), n: counter }),
  { maxLength: 300 },
);

/** What one incarnation's window must answer: the rule of replay-window.ts, kept in a set. */
class WindowModel {
  private readonly seen = new Set<number>();
  private high = 0;

  accept(n: number): string {
    if (n > this.high) {
      this.high = n;
      this.seen.add(n);
      return 'ok';
    }
    if (this.high - n >= LIMITS.window) return 'tooOld';
    if (this.seen.has(n)) return 'replayed';
    this.seen.add(n);
    return 'ok';
  }
}

/**
 * Each incarnation's window answers as the model does; through the bounded guard no counter is
 * ever accepted twice for one incarnation, and the guard never tracks more incarnations than its bound.
 */
export const replayTarget: FuzzTarget<Arrival[]> = {
  name: 'transport: replay window',
  inputs: arrivals,
  size: (list) => 8 * list.length,
  check(list) {
    const windows = new Map<string, { window: CounterWindow; model: WindowModel }>();
    const guard = new ReplayGuard(LIMITS);
    const accepted = new Set<string>();
    let anyAccepted = false;
    for (const { sender, incarnation, n } of list) {
      const key = `${sender}/${incarnation}`;
      let pair = windows.get(key);
      if (pair === undefined) {
        pair = { window: new CounterWindow(LIMITS.window), model: new WindowModel() };
        windows.set(key, pair);
      }
      assert.equal(pair.window.accept(n), pair.model.accept(n), `${key} counter ${n}`);
      if (guard.accept(sender, String(incarnation), incarnation, n) === 'ok') {
        assert.ok(!accepted.has(`${key}/${n}`), `${key} counter ${n} accepted twice`);
        accepted.add(`${key}/${n}`);
        anyAccepted = true;
      }
      assert.ok(guard.size <= LIMITS.incarnations);
    }
    return anyAccepted ? 'accepted' : 'rejected';
  },
};
