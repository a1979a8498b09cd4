import { describe, expect, it } from 'vitest';
import {
  createGroup,
  type IdentityContext,
  readGroup,
  settleGroup,
} from '../../src/binding/group-identity.js';
import type { Clock } from '../../src/clock.js';
import { RaftError } from '../../src/errors.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { ProbeAnswer, ProbeResult } from '../../src/transport/mqtt-discovery.js';
import { RecordingLogger } from '../support/recording-logger.js';

/** A clock that stands still at `now` unless a test moves it; settleGroup sets no timers. */
function stillClock(start: number): Clock & { at: number } {
  const clock = {
    at: start,
    now: () => clock.at,
    setTimeout: () => {
      throw new Error('settleGroup sets no timers');
    },
    clearTimeout: () => undefined,
    setInterval: () => {
      throw new Error('settleGroup sets no timers');
    },
    clearInterval: () => undefined,
  };
  return clock;
}

const live = (...members: [string, string][]): ProbeResult => ({
  live: members.map(([id, group]): ProbeAnswer => ({ id, group })),
  duplicate: false,
});

interface Setup {
  readonly storage: MemoryStore;
  readonly logger: RecordingLogger;
  readonly clock: Clock & { at: number };
  /** The group each probe announced, in order. */
  readonly announced: string[];
  readonly ctx: IdentityContext;
}

/** A context whose probes answer `answers` in turn (the last one repeats). */
function setup(over: Partial<IdentityContext>, answers: ProbeResult[]): Setup {
  const storage = new MemoryStore();
  const logger = new RecordingLogger();
  const clock = stillClock(1000);
  const announced: string[] = [];
  const ctx: IdentityContext = {
    id: 'me',
    broker: 'mqtt://broker.test',
    cluster: 'plant',
    storage,
    existing: false,
    bootstrap: false,
    deadline: 2000,
    clock,
    probe: async (group) => {
      announced.push(group);
      return answers[Math.min(announced.length - 1, answers.length - 1)] ?? live();
    },
    logger,
    randomBytes: (size) => new Uint8Array(size).fill(0xab),
    ...over,
  };
  return { storage, logger, clock, announced, ctx };
}

async function refusal(promise: Promise<unknown>): Promise<RaftError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RaftError);
  return error as RaftError;
}

describe('group identity', () => {
  it('reads no group from a fresh store, and the stored one after createGroup', async () => {
    const storage = new MemoryStore();
    expect(await readGroup(storage)).toBe('');
    const group = await createGroup(storage, (size) => new Uint8Array(size).fill(1));
    expect(group).toBe('0101010101010101');
    expect(await readGroup(storage)).toBe(group);
  });

  it('bootstraps a new group on a fresh store when nobody is live, and stores it', async () => {
    const s = setup({ bootstrap: true }, [live()]);
    expect(await settleGroup(s.ctx)).toBe('abababababababab');
    expect(await readGroup(s.storage)).toBe('abababababababab');
    expect(s.announced).toEqual(['']);
  });

  it('refuses a second bootstrap, naming the live members sorted by id', async () => {
    const s = setup({ bootstrap: true }, [live(['b', 'g1'], ['a', ''])]);
    const error = await refusal(settleGroup(s.ctx));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'cannot bootstrap: cluster plant on mqtt://broker.test already has a live group ' +
        '(a in group (none), b in group g1); start me without bootstrap to join it',
    );
    expect(await readGroup(s.storage)).toBe('');
  });

  it('refuses an id that another live process uses', async () => {
    const s = setup({}, [{ live: [], duplicate: true }]);
    const error = await refusal(settleGroup(s.ctx));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'member id me is already in use by another live process in cluster plant on ' +
        'mqtt://broker.test; stop that process or give this member another id',
    );
  });

  it('a fresh joiner probes until a member answers, then adopts and stores its group', async () => {
    const s = setup({}, [live(), live(), live(['a', 'g1'])]);
    expect(await settleGroup(s.ctx)).toBe('g1');
    expect(s.announced).toEqual(['', '', '']);
    expect(await readGroup(s.storage)).toBe('g1');
  });

  it('a fresh joiner adopts the empty group of members from before group ids without storing it', async () => {
    const s = setup({}, [live(['a', ''], ['b', ''])]);
    expect(await settleGroup(s.ctx)).toBe('');
    expect(await s.storage.get('mqtt-raft/group')).toBeUndefined();
  });

  it('a fresh joiner refuses live members of two groups', async () => {
    const s = setup({}, [live(['c', 'g2'], ['a', 'g1'], ['b', 'g1'])]);
    const error = await refusal(settleGroup(s.ctx));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe(
      'cluster plant on mqtt://broker.test has live members of 2 different groups ' +
        '(a in group g1, b in group g1, c in group g2): me joins none of them; stop all but one group',
    );
    expect(await readGroup(s.storage)).toBe('');
  });

  it('a fresh joiner times out, retryably, once the deadline is reached with nobody live', async () => {
    const s = setup({ deadline: 1000 }, [live()]);
    const error = await refusal(settleGroup(s.ctx));
    expect(error.code).toBe('TIMEOUT');
    expect(error.retryable).toBe(true);
    expect(error.message).toBe(
      'open: no live member of cluster plant answered on mqtt://broker.test; ' +
        'start the member that bootstraps the group first',
    );
    expect(s.announced).toHaveLength(1);
  });

  it('a fresh joiner before its deadline probes again rather than giving up', async () => {
    const s = setup({ deadline: 1001 }, [live(), live(['a', 'g1'])]);
    expect(await settleGroup(s.ctx)).toBe('g1');
    expect(s.announced).toHaveLength(2);
  });

  it('a restart keeps its stored group and logs an error naming a second live group', async () => {
    const s = setup({ existing: true }, [live(['z', 'g1'], ['y', 'g2'], ['x', 'g3'], ['w', ''])]);
    await s.storage.set('mqtt-raft/group', new TextEncoder().encode('g1'));
    expect(await settleGroup(s.ctx)).toBe('g1');
    expect(s.announced).toEqual(['g1']);
    const errors = s.logger.find('error', /second group/);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.details).toEqual({ localId: 'me', group: 'g1' });
    expect(errors[0]?.message).toBe(
      'cluster plant has a second group besides g1: x in group g3, y in group g2',
    );
  });

  it('a restart among members of its own group logs no error', async () => {
    const s = setup({ existing: true }, [live(['a', 'g1'], ['b', ''])]);
    await s.storage.set('mqtt-raft/group', new TextEncoder().encode('g1'));
    expect(await settleGroup(s.ctx)).toBe('g1');
    expect(s.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a restart from before group ids keeps no group and adopts none from live members', async () => {
    const s = setup({ existing: true }, [live(['a', 'g1'])]);
    expect(await settleGroup(s.ctx)).toBe('');
    expect(s.announced).toEqual(['']);
    expect(await readGroup(s.storage)).toBe('');
    expect(s.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('a member with a stored group but no Raft state yet keeps that group without waiting', async () => {
    const s = setup({ deadline: 0 }, [live()]);
    await s.storage.set('mqtt-raft/group', new TextEncoder().encode('g7'));
    expect(await settleGroup(s.ctx)).toBe('g7');
    expect(s.announced).toEqual(['g7']);
  });
});
