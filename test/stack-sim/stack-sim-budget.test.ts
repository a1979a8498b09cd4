import { describe, expect, it } from 'vitest';
import { describeFailures, runSeeds } from './run-seeds.js';

/** Seeds of the budget run in CI: five voting members under a budget of three, and an observer. */
const BUDGET_SEEDS = 6;

describe('stack simulation, a voter budget of 3 among 5 voting members and an observer', () => {
  it(`passes every check for ${BUDGET_SEEDS} seeds, with lost voters replaced`, async () => {
    const results = await runSeeds(BUDGET_SEEDS, { members: 5, observers: 1, voters: 3 });
    expect(
      results.filter((r) => r.violations.length > 0).map((r) => r.seed),
      describeFailures(results),
    ).toEqual([]);
    const total = (counter: string) => results.reduce((n, r) => n + (r.stats[counter] ?? 0), 0);
    // Each run promotes two voters while the group forms; more means lost voters were replaced.
    expect(total('budgetPromotions')).toBeGreaterThan(2 * BUDGET_SEEDS);
    expect(total('budgetDemotions')).toBeGreaterThan(0);
  }, 600_000);
});
