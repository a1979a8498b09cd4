import { describe, expect, it } from 'vitest';
import { assertTarget } from './support/target.js';
import { replayTarget } from './targets/replay.js';
import { plainTarget, sealedTarget } from './targets/transport.js';

describe('fuzz: what the MQTT transport receives', () => {
  it('drops and counts every malformed payload without a group key, and delivers the valid ones', async () => {
    const counts = await assertTarget(plainTarget());
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.rejected).toBeGreaterThan(0);
  });

  it('with a group key, accepts no changed envelope and drops and counts the rest', async () => {
    const counts = await assertTarget(sealedTarget());
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.rejected).toBeGreaterThan(0);
  });

  it('answers replays as the window rule says and never accepts a counter twice', async () => {
    const counts = await assertTarget(replayTarget);
    expect(counts.accepted).toBeGreaterThan(0);
  });
});
