import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/index.js';

const draw = (seed: number, n: number, bound = 1_000_000) => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => r.int(bound));
};

describe('seededRandom', () => {
  it('replays the same sequence for the same seed', () => {
    expect(draw(42, 100)).toEqual(draw(42, 100));
    const a = seededRandom(7);
    const b = seededRandom(7);
    for (let i = 0; i < 50; i++) expect(a.float()).toBe(b.float());
  });

  it('gives different sequences for different seeds', () => {
    expect(draw(1, 20)).not.toEqual(draw(2, 20));
    expect(draw(0, 20)).not.toEqual(draw(1, 20));
    const firsts = new Set(Array.from({ length: 50 }, (_, seed) => draw(seed, 1)[0]));
    expect(firsts.size).toBeGreaterThan(40);
  });

  it('is not constant within one sequence', () => {
    expect(new Set(draw(3, 100)).size).toBeGreaterThan(90);
  });

  it('keeps int(bound) in [0, bound) and reaches both ends for small bounds', () => {
    for (const bound of [1, 2, 3, 10, 17, 1000]) {
      const r = seededRandom(bound * 31);
      const values = Array.from({ length: 2000 }, () => r.int(bound));
      const outside = values.filter((v) => !Number.isInteger(v) || v < 0 || v >= bound);
      expect(outside).toEqual([]);
      if (bound <= 17) expect(new Set(values).size).toBe(bound);
    }
  });

  it('keeps float() in [0, 1)', () => {
    const r = seededRandom(99);
    const values = Array.from({ length: 2000 }, () => r.float());
    expect(values.filter((f) => !(f >= 0 && f < 1))).toEqual([]);
  });

  it('treats seeds as 32-bit unsigned integers', () => {
    expect(draw(2 ** 32 + 5, 10)).toEqual(draw(5, 10));
  });
});
