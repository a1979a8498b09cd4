import { describe, expect, it } from 'vitest';
import { PROCESS_FAULTS } from './nemesis.js';
import { CI_SEEDS, describeFailures, runSeeds } from './run-seeds.js';

/** Faults and operations every CI share must have exercised, by their counter in the stats. */
const EXERCISED = [
  ...PROCESS_FAULTS,
  'messagesDropped',
  'messagesCut',
  'duplicated',
  'forwardsLost',
  'answersLost',
  'writesLostInCrash',
  'writesOk',
  'readsOk',
  'changesObserved',
];

describe('stack simulation, 3 members', () => {
  it(`passes every check for ${CI_SEEDS} seeds, exercising every fault it injects`, async () => {
    const results = await runSeeds(CI_SEEDS, { members: 3 });
    expect(
      results.filter((r) => r.violations.length > 0).map((r) => r.seed),
      describeFailures(results),
    ).toEqual([]);
    const total: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.stats)) total[k] = (total[k] ?? 0) + v;
    for (const counter of EXERCISED) expect(total[counter], counter).toBeGreaterThan(0);
  }, 600_000);
});
