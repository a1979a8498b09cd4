import { describe, expect, it } from 'vitest';
import { assertTarget } from './support/target.js';
import { controlTarget } from './targets/cli.js';

describe('fuzz: the control socket line decoder', () => {
  it('splits bounded lines and parses each to a valid request or BAD_REQUEST', async () => {
    const counts = await assertTarget(controlTarget);
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.rejected).toBeGreaterThan(0);
  });
});
