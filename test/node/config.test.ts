import { describe, expect, it } from 'vitest';
import { coreTiming, parseRaftConfig } from '../../src/index.js';

describe('node configuration', () => {
  it("fills in hashicorp/raft's defaults", () => {
    expect(parseRaftConfig({ localId: 'a' })).toMatchObject({
      heartbeatTimeout: 1000,
      electionTimeout: 1000,
      commitTimeout: 50,
      leaderLeaseTimeout: 500,
      maxAppendEntries: 64,
      trailingLogs: 10240,
      snapshotInterval: 120_000,
      snapshotThreshold: 8192,
      preVote: true,
    });
  });

  it.each([
    [{ localId: '' }, 'localId'],
    [{ localId: 'a', heartbeatTimeout: 4 }, 'heartbeatTimeout'],
    [{ localId: 'a', electionTimeout: 1.5 }, 'electionTimeout'],
    [{ localId: 'a', maxAppendEntries: 0 }, 'maxAppendEntries'],
    [{ localId: 'a', maxAppendEntries: 1025 }, 'maxAppendEntries'],
    [{ localId: 'a', snapshotThreshold: 0 }, 'snapshotThreshold'],
    [{ localId: 'a', leaderLeaseTimeout: 1001 }, 'leaderLeaseTimeout'],
    [
      { localId: 'a', heartbeatTimeout: 1000, electionTimeout: 500, leaderLeaseTimeout: 100 },
      'electionTimeout',
    ],
  ])('rejects %j naming %s', (input, field) => {
    expect(() => parseRaftConfig(input)).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining(field) }),
    );
  });

  it('derives core ticks from the timeouts', () => {
    const timing = coreTiming(
      parseRaftConfig({ localId: 'a', heartbeatTimeout: 1000, electionTimeout: 2000 }),
    );
    expect(timing).toEqual({ tickMs: 100, electionTicks: 20, heartbeatTicks: 1, leaderLeaseTicks: 5 });
  });
});
