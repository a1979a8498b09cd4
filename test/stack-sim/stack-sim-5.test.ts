import { describe, expect, it } from 'vitest';
import { CI_SEEDS_5, describeFailures, runSeeds } from './run-seeds.js';

describe('stack simulation, 5 members', () => {
  it(`passes every check for ${CI_SEEDS_5} seeds`, async () => {
    const results = await runSeeds(CI_SEEDS_5, { members: 5 });
    expect(
      results.filter((r) => r.violations.length > 0).map((r) => r.seed),
      describeFailures(results),
    ).toEqual([]);
  }, 600_000);
});
