import { describe, expect, it } from 'vitest';
import { sortInSlices } from '../../src/binding/sliced-sort.js';
import { seededRandom } from '../../src/core/random.js';

/** `count` entries with distinct random keys, in random order. */
function shuffled(count: number, seed: number): Array<[string, number]> {
  const random = seededRandom(seed);
  const keys = new Set<string>();
  while (keys.size < count) keys.add(`k${random.int(count * 10)}`);
  return [...keys].map((key, i): [string, number] => [key, i]);
}

/** Sorts `count` shuffled entries in slices of `slice`; returns whether it matched a plain sort, and the turns given. */
async function sortCounted(count: number, slice: number): Promise<{ same: boolean; turns: number }> {
  const entries = shuffled(count, count + slice);
  const expected = [...entries].sort(([a], [b]) => (a < b ? -1 : 1));
  let turns = 0;
  const sorted = await sortInSlices(entries, slice, async () => {
    turns++;
  });
  return { same: JSON.stringify(sorted) === JSON.stringify(expected), turns };
}

describe('sortInSlices', () => {
  it.each([
    [0, 4],
    [1, 4],
    [4, 4],
    [1000, 1000],
  ])('sorts %i entries that fit a slice of %i at once, without a turn', async (count, slice) => {
    expect(await sortCounted(count, slice)).toEqual({ same: true, turns: 0 });
  });

  it.each([
    // 2 runs, then a merge of 5 entries that gives a turn after 4.
    [5, 4, 3],
    // 5 runs; merges of 8, 8, then 16, then 17 entries: 2 + 2 + 4 + 4 turns.
    [17, 4, 17],
  ])(
    'sorts %i entries in slices of %i as a plain sort would, giving %i turns',
    async (count, slice, turns) => {
      expect(await sortCounted(count, slice)).toEqual({ same: true, turns });
    },
  );

  it('gives a turn at least once per slice of a large sort', async () => {
    const { same, turns } = await sortCounted(10_000, 7);
    expect(same).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(Math.ceil(10_000 / 7));
  });
});
