import { describe, expect, it } from 'vitest';
import { assertTarget } from './support/target.js';
import { peerInputTarget } from './targets/node.js';

describe('fuzz: what a member does with decoded peer messages', () => {
  it('steps them without throwing, counts those that break a rule, and keeps term and commit sane', async () => {
    const counts = await assertTarget(peerInputTarget);
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.rejected).toBeGreaterThan(0);
  });
});
