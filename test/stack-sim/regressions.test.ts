import { describe, expect, it } from 'vitest';
import { describeFailures } from './run-seeds.js';
import { runStackSimulation } from './stack-sim.js';

/**
 * Seeds that once failed, each with what it found. They replay exactly, so each keeps guarding
 * against its bug even if the random campaigns later stop reaching that corner.
 */
const REGRESSIONS: ReadonlyArray<{ seed: number; members: number; observers?: number; found: string }> = [
  {
    seed: 70,
    members: 3,
    found:
      'a wiped member, restarted fresh, voted before the group removed its old self: a lagging member won ' +
      'with its vote, and writes the old self had acknowledged were lost (members diverged)',
  },
  { seed: 87, members: 3, found: 'as seed 70 (streams with a gap)' },
  { seed: 126, members: 3, found: 'as seed 70 (streams with a gap, members diverged)' },
  {
    seed: 167,
    members: 5,
    found:
      'a member that crashed while leaving, after the group committed its removal and before it recorded it, ' +
      'came back as a voter of its old configuration and never caught up',
  },
  {
    seed: 23,
    members: 3,
    observers: 2,
    found:
      'the nemesis counted its minority over all five members, observers too, and wiped two of the ' +
      'three voters: no majority held the log any more (a fault of the simulation, not of the stack)',
  },
];

describe('stack simulation regressions', () => {
  it.each(REGRESSIONS)(
    'seed $seed with $members members: $found',
    async ({ seed, members, observers }) => {
      const result = await runStackSimulation({ seed, members, observers: observers ?? 0 });
      expect(result.violations, describeFailures([result])).toEqual([]);
    },
    300_000,
  );
});
