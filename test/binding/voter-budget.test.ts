import { describe, expect, it } from 'vitest';
import {
  type BudgetView,
  budgetInput,
  CAUGHT_UP_SLACK,
  decodeBudget,
  voterBudgetDecision,
} from '../../src/binding/voter-budget.js';
import type { Configuration, Suffrage } from '../../src/core/types.js';
import type { RaftError } from '../../src/index.js';

const NOW = 100_000;

/** `[id, suffrage, ms since heard (null: never), matchIndex, eligible]` per member; `a` leads. */
type Row = [string, Suffrage, number | null, number, boolean];

function view(rows: Row[], budget: number): BudgetView {
  const byId = new Map(rows.map((r) => [r[0], r]));
  const config: Configuration = { servers: rows.map(([id, suffrage]) => ({ id, suffrage })) };
  return {
    config,
    self: 'a',
    budget,
    now: NOW,
    lastContact: (id) => {
      const ago = byId.get(id)?.[2];
      return ago === null || ago === undefined ? null : NOW - ago;
    },
    // Watched since long ago: silence counts in full.
    watchedSince: () => 0,
    matchIndex: (id) => byId.get(id)?.[3] ?? 0,
    eligible: (id) => byId.get(id)?.[4] ?? false,
    lossAfterMs: 30_000,
    liveWithinMs: 1000,
  };
}

describe('voterBudgetDecision', () => {
  it('promotes the eligible live non-voter furthest in the log while voters are missing', () => {
    const rows: Row[] = [
      ['a', 'voter', 0, 500, true],
      ['b', 'nonvoter', 10, 400, true],
      ['c', 'nonvoter', 10, 480, true],
      ['o', 'nonvoter', 10, 500, false],
      ['d', 'nonvoter', 5_000, 500, true],
    ];
    expect(voterBudgetDecision(view(rows, 3))).toEqual({
      change: 'promote',
      id: 'c',
      reason: '1 of 3 voters',
    });
  });

  // Non-voters' answers are paced, so the leader's match indexes for them lag by up to the slack.
  it('counts non-voters within CAUGHT_UP_SLACK of the furthest as level, and picks the lowest id', () => {
    const rows: Row[] = [
      ['a', 'voter', 0, 500, true],
      ['c', 'nonvoter', 100, 500, true],
      ['b', 'nonvoter', 300, 500 - CAUGHT_UP_SLACK, true],
    ];
    expect(voterBudgetDecision(view(rows, 3))).toMatchObject({ change: 'promote', id: 'b' });
    rows[2] = ['b', 'nonvoter', 300, 500 - CAUGHT_UP_SLACK - 1, true];
    expect(voterBudgetDecision(view(rows, 3))).toMatchObject({ change: 'promote', id: 'c' });
  });

  it('never promotes an observer, a silent member, or while a promotion is staging', () => {
    const observerOnly: Row[] = [
      ['a', 'voter', 0, 50, true],
      ['o', 'nonvoter', 10, 50, false],
      ['s', 'nonvoter', 2_000, 50, true],
    ];
    expect(voterBudgetDecision(view(observerOnly, 3))).toBeNull();
    const staging: Row[] = [
      ['a', 'voter', 0, 50, true],
      ['b', 'staging', 10, 20, true],
      ['c', 'nonvoter', 10, 50, true],
    ];
    expect(voterBudgetDecision(view(staging, 3))).toBeNull();
  });

  it('keeps a full budget of live voters, and voters beyond a lowered budget while they live', () => {
    const full: Row[] = [
      ['a', 'voter', 0, 50, true],
      ['b', 'voter', 10, 50, true],
      ['c', 'voter', 29_999, 50, true],
      ['d', 'nonvoter', 10, 50, true],
    ];
    expect(voterBudgetDecision(view(full, 3))).toBeNull();
    expect(voterBudgetDecision(view(full, 2))).toBeNull();
  });

  it('replaces a lost voter by promoting first, then demoting it', () => {
    const lost: Row[] = [
      ['a', 'voter', 0, 50, true],
      ['b', 'voter', 10, 50, true],
      ['c', 'voter', 30_000, 20, true],
      ['d', 'nonvoter', 10, 50, true],
    ];
    expect(voterBudgetDecision(view(lost, 3))).toEqual({
      change: 'promote',
      id: 'd',
      reason: 'to replace lost voter c',
    });
    lost[3] = ['d', 'voter', 10, 50, true];
    expect(voterBudgetDecision(view(lost, 3))).toEqual({
      change: 'demote',
      id: 'c',
      reason: 'lost for 30000 ms, replaced',
    });
  });

  it('keeps a lost voter that no one can replace, and one whose demotion would stop the group', () => {
    const noOne: Row[] = [
      ['a', 'voter', 0, 50, true],
      ['b', 'voter', 10, 50, true],
      ['c', 'voter', 40_000, 20, true],
      ['o', 'nonvoter', 10, 50, false],
    ];
    expect(voterBudgetDecision(view(noOne, 3))).toBeNull();
    // Five voters over a budget of three, three of them lost: demoting one leaves four voters of
    // which two are live, fewer than a majority.
    const stopping: Row[] = [
      ['a', 'voter', 0, 50, true],
      ['b', 'voter', 40_000, 50, true],
      ['c', 'voter', 40_000, 20, true],
      ['d', 'voter', 50_000, 50, true],
      ['e', 'voter', 10, 50, true],
    ];
    expect(voterBudgetDecision(view(stopping, 3))).toBeNull();
  });
});

describe('the budget setting', () => {
  it('round-trips budgets from 1 to 15 and reads anything else as no budget', () => {
    for (const n of [1, 3, 15]) expect(decodeBudget(budgetInput(n).value)).toBe(n);
    const text = (s: string) => new TextEncoder().encode(s);
    for (const bad of ['', '0', '16', '03', '3.0', ' 3', 'x']) expect(decodeBudget(text(bad))).toBeNull();
    expect(decodeBudget(undefined)).toBeNull();
  });

  it.each([0, 16, 2.5, Number.NaN])('refuses a budget of %s with INVALID_INPUT', (n) => {
    let error: RaftError | undefined;
    try {
      budgetInput(n);
    } catch (err) {
      error = err as RaftError;
    }
    expect(error?.code).toBe('INVALID_INPUT');
    expect(error?.message).toBe('voters: must be an integer from 1 to 15');
  });
});
