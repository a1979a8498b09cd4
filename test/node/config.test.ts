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

  it('says which field broke which rule, with the values compared, and keeps the schema error as the cause', () => {
    const refusal = (input: Parameters<typeof parseRaftConfig>[0]) => {
      try {
        parseRaftConfig(input);
      } catch (err) {
        return err as { code: string; message: string; cause: unknown };
      }
      throw new Error('accepted');
    };
    expect(refusal({ localId: 'a', leaderLeaseTimeout: 1001 }).message).toBe(
      'leaderLeaseTimeout: cannot be larger than heartbeatTimeout (1001 > 1000)',
    );
    expect(
      refusal({ localId: 'a', heartbeatTimeout: 1000, electionTimeout: 500, leaderLeaseTimeout: 100 })
        .message,
    ).toBe('electionTimeout: must be at least heartbeatTimeout (500 < 1000)');
    // Not an object at all: no field to name, so the configuration as a whole.
    const whole = refusal(null as unknown as Parameters<typeof parseRaftConfig>[0]);
    expect(whole.code).toBe('INVALID_CONFIG');
    expect(whole.message).toMatch(/^config: /);
    expect(whole.cause).toBeInstanceOf(Error);
  });

  it('derives core ticks from the timeouts', () => {
    const timing = coreTiming(
      parseRaftConfig({ localId: 'a', heartbeatTimeout: 1000, electionTimeout: 2000 }),
    );
    expect(timing).toEqual({ tickMs: 100, electionTicks: 20, heartbeatTicks: 1, leaderLeaseTicks: 5 });
  });
});
