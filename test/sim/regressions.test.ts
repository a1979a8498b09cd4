import { describe, expect, it } from 'vitest';
import { describeFailures } from './run-seeds.js';
import { runSimulation } from './simulation.js';

/**
 * Seeds that once failed, each with what it found. They replay exactly, so each keeps guarding
 * against its bug even if the random campaigns later stop reaching that corner.
 */
const REGRESSIONS: ReadonlyArray<{ seed: number; nodes: number; found: string }> = [
  {
    seed: 1392,
    nodes: 3,
    found:
      'liveness: after membership changes a candidate that fell behind in terms campaigned unheard forever, ' +
      'because refusals of stale vote requests were not sent; they now carry the current term',
  },
  {
    seed: 168,
    nodes: 5,
    found:
      'an installed snapshot left a stale log suffix in storage, so a restart would revive a dead configuration',
  },
  { seed: 137, nodes: 5, found: 'as seed 168' },
  { seed: 275, nodes: 3, found: 'as seed 168' },
  {
    seed: 37,
    nodes: 3,
    found:
      'a commit counted under a configuration appended in the same Ready (promotion) must be judged by it',
  },
];

describe('simulation regressions', () => {
  it.each(REGRESSIONS)('seed $seed with $nodes servers: $found', ({ seed, nodes }) => {
    const result = runSimulation({ seed, nodes });
    expect(result.violations.length, describeFailures([result])).toBe(0);
  });
});
