import { describe, expect, it } from 'vitest';
import { type CoreOptions, RaftCore, resolveCoreOptions, seededRandom } from '../../src/core/index.js';
import { RaftError } from '../../src/errors.js';
import { votersConfig } from './helpers.js';

const base: CoreOptions = { id: 'a', random: seededRandom(1) };

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

function expectInvalid(options: CoreOptions, field: string): void {
  const err = errorOf(() => resolveCoreOptions(options));
  expect(err).toBeInstanceOf(RaftError);
  const raftError = err as RaftError;
  expect(raftError.code).toBe('INVALID_CONFIG');
  expect(raftError.message).toContain(field);
}

describe('resolveCoreOptions defaults', () => {
  it('fills in every documented default', () => {
    const resolved = resolveCoreOptions(base);
    expect(resolved).toMatchObject({
      id: 'a',
      electionTicks: 10,
      heartbeatTicks: 1,
      preVote: true,
      checkQuorum: true,
      maxInflight: 256,
      maxEntriesPerMessage: 64,
      maxBytesPerMessage: 1024 * 1024,
      maxApplyPerReady: 1024,
      trailingEntries: 10240,
      maxPromotionLag: 64,
      nonvoterAckTicks: 3,
    });
    expect(resolved.random).toBe(base.random);
  });

  // A non-voter heard less than once per election timeout would look dead to the member health.
  it.each([
    { electionTicks: 2, nonvoterAckTicks: 1 },
    { electionTicks: 6, nonvoterAckTicks: 2 },
    { electionTicks: 9, nonvoterAckTicks: 3 },
    { electionTicks: 40, nonvoterAckTicks: 3 },
  ])(
    'paces non-voters at most to a third of electionTicks $electionTicks',
    ({ electionTicks, nonvoterAckTicks }) => {
      expect(resolveCoreOptions({ ...base, electionTicks, heartbeatTicks: 1 }).nonvoterAckTicks).toBe(
        nonvoterAckTicks,
      );
      expect(
        resolveCoreOptions({ ...base, electionTicks, heartbeatTicks: 1, nonvoterAckTicks: 5 })
          .nonvoterAckTicks,
      ).toBe(5);
    },
  );

  it('keeps explicit values', () => {
    const resolved = resolveCoreOptions({
      ...base,
      electionTicks: 20,
      heartbeatTicks: 19,
      preVote: false,
      checkQuorum: false,
      maxInflight: 1,
      maxEntriesPerMessage: 2,
      maxBytesPerMessage: 3,
      maxApplyPerReady: 4,
    });
    expect(resolved).toMatchObject({
      electionTicks: 20,
      heartbeatTicks: 19,
      preVote: false,
      checkQuorum: false,
      maxInflight: 1,
      maxEntriesPerMessage: 2,
      maxBytesPerMessage: 3,
      maxApplyPerReady: 4,
    });
  });
});

describe('resolveCoreOptions validation', () => {
  it('rejects an empty id', () => {
    expectInvalid({ ...base, id: '' }, 'id');
  });

  it('rejects an id that is not a string', () => {
    expectInvalid({ ...base, id: 7 as unknown as string }, 'id');
  });

  const fields = [
    'electionTicks',
    'heartbeatTicks',
    'maxInflight',
    'maxEntriesPerMessage',
    'maxBytesPerMessage',
    'maxApplyPerReady',
  ] as const;

  for (const field of fields) {
    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(`rejects ${field} = %s`, (value) => {
      // electionTicks stays large enough that only `field` is wrong.
      const options: CoreOptions = { ...base, electionTicks: 100, [field]: value };
      expectInvalid(options, field);
    });

    it(`rejects a non-number ${field}`, () => {
      expectInvalid({ ...base, electionTicks: 100, [field]: '5' as unknown as number }, field);
    });
  }

  // Fields that may be zero: entries kept behind a snapshot, and the promotion lag of a staging server.
  for (const field of ['trailingEntries', 'maxPromotionLag'] as const) {
    it.each([-1, 1.5, Number.NaN])(`rejects ${field} = %s`, (value) => {
      expectInvalid({ ...base, [field]: value }, field);
    });

    it(`accepts ${field} = 0`, () => {
      expect(resolveCoreOptions({ ...base, [field]: 0 })[field]).toBe(0);
    });
  }

  it('rejects heartbeatTicks equal to electionTicks', () => {
    expectInvalid({ ...base, electionTicks: 5, heartbeatTicks: 5 }, 'heartbeatTicks');
  });

  it('rejects heartbeatTicks above electionTicks', () => {
    expectInvalid({ ...base, electionTicks: 5, heartbeatTicks: 8 }, 'heartbeatTicks');
    // The default heartbeat (1) is not below an election timeout of 1 either.
    expectInvalid({ ...base, electionTicks: 1 }, 'heartbeatTicks');
  });

  it('accepts heartbeatTicks just below electionTicks', () => {
    expect(resolveCoreOptions({ ...base, electionTicks: 5, heartbeatTicks: 4 }).heartbeatTicks).toBe(4);
  });

  it('is applied by the RaftCore constructor', () => {
    const initial = {
      hardState: { term: 0, vote: null, commit: 0 },
      snapshot: { index: 0, term: 0, config: votersConfig('a'), configIndex: 0 },
      entries: [],
    };
    const err = errorOf(() => new RaftCore({ ...base, maxInflight: 0 }, initial));
    expect(err).toBeInstanceOf(RaftError);
    expect((err as RaftError).code).toBe('INVALID_CONFIG');
    expect((err as RaftError).message).toContain('maxInflight');
  });
});
