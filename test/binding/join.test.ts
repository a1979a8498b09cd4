/**
 * How open() joins the group and close() leaves it (src/binding/join.ts), on a fake Raft that
 * records every call and answers only when the test says, a real MemoryStore for the removal
 * record, and a clock that moves only when the test advances it: every wait is a poll every
 * 10 ms on that clock, so each `advance(10)` runs exactly one more check.
 */
import { describe, expect, it, vi } from 'vitest';
import { joinIfOutside, leaveGroup, takeVote } from '../../src/binding/join.js';
import type { Role } from '../../src/core/types.js';
import { RaftError } from '../../src/errors.js';
import { Raft } from '../../src/node/raft.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { expectTimeout, flush, manualClock, tick, track } from '../support/manual-clock.js';

/** A configuration with the index of its entry, as Raft reports both. */
type Indexed = ReturnType<Raft['getConfiguration']>;

/** A configuration at `index` listing `voters`, then `nonvoters`. */
function config(index: number, voters: string[], nonvoters: string[] = []): Indexed {
  const servers = [
    ...voters.map((id) => ({ id, suffrage: 'voter' as const })),
    ...nonvoters.map((id) => ({ id, suffrage: 'nonvoter' as const })),
  ];
  return { index, configuration: { servers } };
}

/** What a store without state shows: no configuration yet. */
const NOTHING = config(0, []);

/**
 * A Raft with only the methods join.ts calls. Calls are recorded as [method, ...args]; a
 * membership change or a transfer stays pending until the test answers it, so the test sees
 * the order of the calls and can look at the store between them.
 */
function fakeRaft() {
  const calls: unknown[][] = [];
  const pending = new Map<string, { resolve(value: unknown): void; reject(err: unknown): void }>();
  const view = {
    latest: NOTHING,
    committed: NOTHING,
    commitIndex: 0,
    appliedIndex: 0,
    role: 'follower' as Role,
  };
  const call =
    (method: string) =>
    (...args: unknown[]) => {
      calls.push([method, ...args]);
      return new Promise((resolve, reject) => pending.set(method, { resolve, reject }));
    };
  const raft = {
    getConfiguration: () => view.latest,
    getCommittedConfiguration: () => view.committed,
    stats: () => ({ commitIndex: view.commitIndex, appliedIndex: view.appliedIndex }),
    state: () => view.role,
    listen: () => void calls.push(['listen']),
    removeServer: call('removeServer'),
    addNonvoter: call('addNonvoter'),
    addVoter: call('addVoter'),
    leadershipTransfer: call('leadershipTransfer'),
    // No events: the waits here go by their 10 ms checks.
    on: () => raft,
    off: () => raft,
  } as unknown as Raft;
  // Settling a call that was not made throws: the test then fails on the missing call.
  const settle = async (method: string, how: 'resolve' | 'reject', value: unknown) => {
    const found = pending.get(method);
    if (found === undefined) throw new Error(`no pending ${method}; calls: ${JSON.stringify(calls)}`);
    pending.delete(method);
    found[how](value);
    await flush();
  };
  const reply = (method: string, value?: unknown) => settle(method, 'resolve', value);
  const fail = (method: string, err: unknown) => settle(method, 'reject', err);
  return { raft, calls, view, reply, fail };
}

type FakeRaft = ReturnType<typeof fakeRaft>;

const JOIN_TIMEOUT = 'open: timed out waiting for the join to be applied here';

interface JoinSetup {
  readonly existing?: boolean;
  readonly bootstrap?: boolean;
  /** Recorded in the store before the call; none by default. */
  readonly removedAt?: number;
  /** The newest configuration in the local log; lists 'a' at index 5 by default. */
  readonly latest?: Indexed;
  readonly deadline?: number;
}

/** Member 'a' (existing, not bootstrapping) opening at time 1000 with deadline 5000 by default. */
async function joining(setup: JoinSetup = {}) {
  const clock = manualClock();
  const storage = new MemoryStore();
  if (setup.removedAt !== undefined) await Raft.recordRemoval(storage, setup.removedAt);
  // Spied after the setup's own record: only what joinIfOutside writes counts.
  const writes = vi.spyOn(storage, 'setUint64');
  const fake = fakeRaft();
  fake.view.latest = setup.latest ?? config(5, ['a', 'b']);
  const members = new Set<string>();
  const fate = track(
    joinIfOutside({
      raft: fake.raft,
      storage,
      id: 'a',
      existing: setup.existing ?? true,
      bootstrap: setup.bootstrap ?? false,
      deadline: setup.deadline ?? 5000,
      clock,
      isMember: (id) => members.has(id),
    }),
  );
  /**
   * The committed configuration moves to `index` and the applied one lists 'a' or not, as
   * `member` says (kept apart to test each half of the condition); then the next poll runs.
   */
  const poll = async (index: number, member: boolean) => {
    fake.view.committed = config(index, ['b'], member ? ['a'] : []);
    members.clear();
    if (member) members.add('a');
    await tick(clock);
  };
  await flush();
  return { ...fake, clock, storage, writes, fate, poll };
}

describe('joinIfOutside', () => {
  it.each([
    { existing: true, bootstrap: false },
    { existing: false, bootstrap: true },
    { existing: true, bootstrap: true },
  ])('returns at once for a listed member with no removal ($existing, $bootstrap)', async (s) => {
    const j = await joining(s);
    expect(j.fate).toEqual({ done: true, value: undefined });
    expect(j.calls).toEqual([]);
    expect(j.writes).not.toHaveBeenCalled();
  });

  it('removes a fresh member first, then listens, then adds it; each timeout measured at its call', async () => {
    const j = await joining({ existing: false, latest: NOTHING });
    expect(j.calls).toEqual([['removeServer', 'a', { timeoutMs: 4000 }]]);
    j.clock.advance(500);
    await j.reply('removeServer', { index: 6 });
    expect(j.calls.slice(1)).toEqual([['listen'], ['addNonvoter', 'a', { timeoutMs: 3500 }]]);
    await j.reply('addNonvoter', { index: 8 });
    // Fresh: nothing of ours to be newer than, so the join's own index is the bar.
    await j.poll(7, true);
    expect(j.fate.done).toBe(false);
    await j.poll(8, true);
    expect(j.fate).toEqual({ done: true, value: undefined });
    expect(j.writes).not.toHaveBeenCalled();
  });

  it('rejoins a member with a recorded removal, waits past that removal, then clears the record', async () => {
    const j = await joining({ removedAt: 7 });
    expect(j.calls).toEqual([['removeServer', 'a', { timeoutMs: 4000 }]]);
    await j.reply('removeServer', { index: 9 });
    expect(j.calls.slice(1)).toEqual([['listen'], ['addNonvoter', 'a', { timeoutMs: 4000 }]]);
    // The join's index is below the removal's: the removal (7, above latest 5 + 1) is the bar.
    await j.reply('addNonvoter', { index: 3 });
    await j.poll(6, true);
    expect(j.fate.done).toBe(false);
    expect(await Raft.removalIndex(j.storage)).toBe(7);
    await j.poll(7, true);
    expect(j.fate).toEqual({ done: true, value: undefined });
    expect(await Raft.removalIndex(j.storage)).toBe(0);
  });

  it('only adds a member its log shows removed, and waits past its newest configuration', async () => {
    const j = await joining({ latest: config(5, ['b', 'c']) });
    expect(j.calls).toEqual([['addNonvoter', 'a', { timeoutMs: 4000 }]]);
    await j.reply('addNonvoter', { index: 3 });
    // Not fresh: our own configuration at 5 proves nothing, only one from 6 on does.
    await j.poll(5, true);
    expect(j.fate.done).toBe(false);
    // New enough, but the configuration applied here does not list us yet.
    await j.poll(6, false);
    expect(j.fate.done).toBe(false);
    await j.poll(6, true);
    expect(j.fate).toEqual({ done: true, value: undefined });
    expect(j.calls).toHaveLength(1);
    expect(j.writes).not.toHaveBeenCalled();
  });

  it('gives each call at least 1 ms when the deadline has passed, then fails the wait at once', async () => {
    const j = await joining({ existing: false, latest: NOTHING, deadline: 900 });
    await j.reply('removeServer', { index: 6 });
    await j.reply('addNonvoter', { index: 7 });
    expect(j.calls).toEqual([
      ['removeServer', 'a', { timeoutMs: 1 }],
      ['listen'],
      ['addNonvoter', 'a', { timeoutMs: 1 }],
    ]);
    expectTimeout(j.fate, JOIN_TIMEOUT);
  });

  it('fails with TIMEOUT at the deadline and keeps the removal record', async () => {
    const j = await joining({ removedAt: 7, deadline: 1030 });
    await j.reply('removeServer', { index: 9 });
    await j.reply('addNonvoter', { index: 10 });
    await j.poll(9, true);
    await j.poll(9, true);
    expect(j.fate.done).toBe(false);
    await j.poll(9, true);
    expectTimeout(j.fate, JOIN_TIMEOUT);
    expect(await Raft.removalIndex(j.storage)).toBe(7);
  });
});

interface VoteSetup {
  readonly budgeted?: boolean;
  /** Lists 'a' as a non-voter at index 5 by default. */
  readonly committed?: Indexed;
  readonly appliedIndex?: number;
  readonly deadline?: number;
}

/** Member 'a' taking its vote at time 1000 with commit index 5, deadline 5000 by default. */
async function voting(setup: VoteSetup = {}) {
  const clock = manualClock();
  const fake = fakeRaft();
  fake.view.commitIndex = 5;
  fake.view.appliedIndex = setup.appliedIndex ?? 3;
  fake.view.committed = setup.committed ?? config(5, ['b'], ['a']);
  const registerEligible = vi.fn(async () => undefined);
  const fate = track(
    takeVote({
      raft: fake.raft,
      id: 'a',
      deadline: setup.deadline ?? 5000,
      clock,
      budgeted: () => setup.budgeted ?? false,
      registerEligible,
    }),
  );
  await flush();
  /** The next poll runs with `appliedIndex` applied (and whatever else the test changed). */
  const applied = async (appliedIndex: number) => {
    fake.view.appliedIndex = appliedIndex;
    await tick(clock);
  };
  return { ...fake, clock, registerEligible, fate, applied };
}

describe('takeVote', () => {
  it('waits until what was committed at the call is applied, then asks for the vote', async () => {
    const v = await voting();
    // The commit index moving on later does not raise the bar.
    v.view.commitIndex = 9;
    await v.applied(4);
    expect(v.calls).toEqual([]);
    await v.applied(5);
    expect(v.calls).toEqual([['addVoter', 'a', { timeoutMs: 3980 }]]);
    await v.reply('addVoter', { index: 10 });
    expect(v.fate.done).toBe(false);
    v.view.committed = config(10, ['a', 'b']);
    await v.applied(5);
    expect(v.fate).toEqual({ done: true, value: undefined });
    expect(v.registerEligible).not.toHaveBeenCalled();
  });

  it('only registers as eligible under a voter budget, once applied', async () => {
    const v = await voting({ budgeted: true });
    expect(v.registerEligible).not.toHaveBeenCalled();
    await v.applied(5);
    expect(v.registerEligible).toHaveBeenCalledTimes(1);
    expect(v.calls).toEqual([]);
    expect(v.fate).toEqual({ done: true, value: undefined });
  });

  it('asks for nothing when the committed configuration already has it voting', async () => {
    const v = await voting({ committed: config(5, ['a', 'b']), appliedIndex: 5 });
    expect(v.fate).toEqual({ done: true, value: undefined });
    expect(v.calls).toEqual([]);
  });

  it('fails with TIMEOUT at the deadline while the committed state is not applied', async () => {
    const v = await voting({ deadline: 1020 });
    await v.applied(4);
    expect(v.fate.done).toBe(false);
    await v.applied(4);
    expectTimeout(v.fate, 'open: timed out waiting for the committed state to be applied');
    expect(v.calls).toEqual([]);
  });

  it('fails with TIMEOUT at the deadline while the vote is not applied', async () => {
    const v = await voting({ appliedIndex: 5, deadline: 1020 });
    expect(v.calls).toEqual([['addVoter', 'a', { timeoutMs: 20 }]]);
    await v.reply('addVoter', { index: 10 });
    await v.applied(5);
    expect(v.fate.done).toBe(false);
    await v.applied(5);
    expectTimeout(v.fate, 'open: timed out waiting for the vote to be applied here');
  });

  it('gives addVoter at least 1 ms when the deadline has passed', async () => {
    const v = await voting({ appliedIndex: 5, deadline: 900 });
    expect(v.calls).toEqual([['addVoter', 'a', { timeoutMs: 1 }]]);
  });
});

/** Member 'a' leaving at time 1000 with deadline 5000 and commit index 7. */
async function leaving(role: Role, storage: MemoryStore | null, deadline = 5000) {
  const clock = manualClock();
  const fake = fakeRaft();
  fake.view.role = role;
  fake.view.commitIndex = 7;
  const fate = track(leaveGroup({ raft: fake.raft, storage, id: 'a', deadline, clock }));
  await flush();
  return { ...fake, clock, fate };
}

describe('leaveGroup', () => {
  it.each([
    { transfer: 'succeeds', settle: (l: FakeRaft) => l.reply('leadershipTransfer') },
    {
      transfer: 'fails',
      settle: (l: FakeRaft) => l.fail('leadershipTransfer', new RaftError('TIMEOUT', 'no one took over')),
    },
  ])('on a leader hands over first, and goes on when the transfer $transfer', async ({ settle }) => {
    const storage = new MemoryStore();
    const l = await leaving('leader', storage);
    expect(l.calls).toEqual([['leadershipTransfer', undefined, { timeoutMs: 4000 }]]);
    expect(await Raft.removalIndex(storage)).toBe(0);
    // Time passes during the transfer: the removal gets only what is left.
    l.clock.advance(300);
    await settle(l);
    expect(l.calls.slice(1)).toEqual([['removeServer', 'a', { timeoutMs: 3700 }]]);
    expect(await Raft.removalIndex(storage)).toBe(8);
    await l.reply('removeServer', { index: 12 });
    expect(l.fate).toEqual({ done: true, value: undefined });
    expect(await Raft.removalIndex(storage)).toBe(12);
  });

  it('on a follower records a lower bound before asking for removal, then the removal index', async () => {
    const storage = new MemoryStore();
    const l = await leaving('follower', storage);
    expect(l.calls).toEqual([['removeServer', 'a', { timeoutMs: 4000 }]]);
    // Recorded before the removal can commit: above everything committed now.
    expect(await Raft.removalIndex(storage)).toBe(8);
    await l.reply('removeServer', { index: 12 });
    expect(await Raft.removalIndex(storage)).toBe(12);
    expect(l.fate).toEqual({ done: true, value: undefined });
  });

  it('records nothing once the store is closed, and still asks for removal', async () => {
    const l = await leaving('follower', null);
    expect(l.calls).toEqual([['removeServer', 'a', { timeoutMs: 4000 }]]);
    await l.reply('removeServer', { index: 12 });
    expect(l.fate).toEqual({ done: true, value: undefined });
  });

  it('gives each call at least 1 ms when the deadline has passed', async () => {
    const l = await leaving('leader', new MemoryStore(), 900);
    await l.reply('leadershipTransfer');
    expect(l.calls).toEqual([
      ['leadershipTransfer', undefined, { timeoutMs: 1 }],
      ['removeServer', 'a', { timeoutMs: 1 }],
    ]);
  });
});
