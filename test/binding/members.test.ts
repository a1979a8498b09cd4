import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, type RaftBinding, type RaftError } from '../../src/index.js';
import { collect, set } from '../support/binding-group.js';
import { CrashableStorage } from '../support/crashable-storage.js';
import { INMEM_TIMING, InmemBindings, memberIds } from '../support/inmem-bindings.js';
import { waitFor } from '../support/wait.js';

let group: InmemBindings;

afterEach(async () => {
  await group.closeAll();
});

/** The error `promise` rejects with (failing the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<RaftError> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (err: unknown) => err as RaftError,
  );
}

/** Waits until `leader` has not heard from `dead` for two election timeouts: not live for the guard rails. */
async function silentOnLeader(leader: RaftBinding, dead: string): Promise<void> {
  await waitFor(
    () =>
      (leader.members().find((m) => m.id === dead)?.health?.lastContactMs ?? 0) >
      2 * INMEM_TIMING.electionTimeout,
    5000,
    `the leader to see ${dead} silent`,
  );
}

describe('RaftBinding.members', () => {
  it('lists role, leader and, on the leader, health; followers report no health', async () => {
    group = new InmemBindings(11);
    const [, b] = await group.start(['a', 'b', 'c']);
    const { index } = await (b as RaftBinding).proposeInput(set('k', 'v'));
    const leader = await group.leader();
    const follower = [...group.members.values()].find((m) => m !== leader) as RaftBinding;
    await waitFor(
      () => leader.members().every((m) => m.health !== null && m.health.matchIndex >= index),
      5000,
      'every member to acknowledge the write',
    );
    const listed = leader.members();
    expect(listed.map((m) => [m.id, m.role, m.leader])).toEqual(
      ['a', 'b', 'c'].map((id) => [id, 'voter', id === leader.id]),
    );
    const self = listed.find((m) => m.id === leader.id);
    expect(self?.health).toMatchObject({ lastContactMs: 0, lag: 0 });
    for (const m of listed) {
      expect(m.health?.lastContactMs).not.toBeNull();
      expect(m.health?.lastContactMs).toBeLessThan(5000);
      expect(m.health?.lag).toBe(leader.raftStats().lastLogIndex - (m.health?.matchIndex ?? 0));
    }
    expect(follower.members().map((m) => [m.id, m.leader, m.health])).toEqual(
      ['a', 'b', 'c'].map((id) => [id, id === leader.id, null]),
    );
  });
});

describe('RaftBinding.removeMember', () => {
  it('removes a dead voter through a follower, warns that no failure is tolerated, and the id is gone', async () => {
    group = new InmemBindings(12);
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    const dead = leader.id === 'c' ? 'b' : 'c';
    const follower = group.member(['a', 'b', 'c'].find((id) => id !== leader.id && id !== dead) as string);
    const changes = collect(leader.observeMembershipChange());
    await group.kill(dead);
    const result = await follower.removeMember(dead);
    expect(result.index).toBeGreaterThan(0);
    expect(result.warnings).toEqual([
      'the group keeps 2 voters: it tolerates no failure; add a member to restore fault tolerance',
    ]);
    await waitFor(
      () =>
        [leader, follower].every(
          (m) => !memberIds(m).includes(dead) && !m.status().members.some((s) => s.id === dead),
        ),
      5000,
      `both members to drop ${dead}`,
    );
    await waitFor(
      () => changes.items.some((c) => c.id === dead && !c.joined),
      5000,
      'the observer to see it leave',
    );
    await follower.proposeInput(set('still', 'writable'));
  });

  it('refuses an unknown id, this member itself and the last voter', async () => {
    group = new InmemBindings(13);
    const [a] = (await group.start(['a'])) as [RaftBinding];
    await a.addNonvoter('x');
    expect(await failure(a.removeMember('nobody'))).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'removeMember: nobody is not a member of the group',
    });
    expect(await failure(a.removeMember('a'))).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('a is this member'),
    });
    expect(await failure(a.demote('a'))).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'demote a: a is the last voter; the group needs one',
    });
    // A non-voter holds no vote: removing it needs no guard and earns no warning.
    expect((await a.removeMember('x')).warnings).toEqual([]);
    expect(memberIds(a)).toEqual(['a']);
  });

  it('on the leader, refuses to remove a live voter when the voters left would lack a live majority, unless forced', async () => {
    group = new InmemBindings(14);
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    const [live, dead] = ['a', 'b', 'c'].filter((id) => id !== leader.id) as [string, string];
    await group.kill(dead);
    await silentOnLeader(leader, dead);
    expect(await failure(leader.removeMember(live))).toMatchObject({
      code: 'INVALID_INPUT',
      message: `remove ${live}: only 1 of the 2 voters left would be live, fewer than a majority (2): the group would stop; force it to remove anyway`,
    });
    expect(memberIds(leader)).toContain(live);
    // Forced, the change is proposed and in force on the leader at once, but without the dead
    // voter it can never commit (the leader soon steps down): the outcome stays unknown.
    const forced = await failure(leader.removeMember(live, { force: true, timeoutMs: 300 }));
    expect(forced.code).not.toBe('INVALID_INPUT');
    expect(forced.indefinite).toBe(true);
    expect(memberIds(leader)).not.toContain(live);
  });
});

describe('RaftBinding.addNonvoter, promote, demote', () => {
  it('demotes a voter, promotes it back once caught up, and adds a non-voter', async () => {
    group = new InmemBindings(15);
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    const other = ['a', 'b', 'c'].find((id) => id !== leader.id) as string;
    const roleOf = (id: string) => leader.members().find((m) => m.id === id)?.role;

    const demoted = await leader.demote(other);
    expect(demoted.warnings).toEqual([
      'the group keeps 2 voters: it tolerates no failure; add a member to restore fault tolerance',
    ]);
    expect(roleOf(other)).toBe('nonvoter');
    expect(await failure(leader.demote(other))).toMatchObject({
      code: 'INVALID_INPUT',
      message: `demote: ${other} is already a nonvoter`,
    });

    await leader.promote(other);
    await waitFor(() => roleOf(other) === 'voter', 5000, `${other} to vote again`);
    expect(await failure(leader.promote(other))).toMatchObject({
      code: 'INVALID_INPUT',
      message: `promote: ${other} is already a voter`,
    });

    expect(await leader.addNonvoter('observer')).toMatchObject({ warnings: [] });
    expect(leader.members().find((m) => m.id === 'observer')).toMatchObject({
      role: 'nonvoter',
      leader: false,
      health: { lastContactMs: null, matchIndex: 0 },
    });
    expect(await failure(leader.addNonvoter(other))).toMatchObject({
      code: 'INVALID_INPUT',
      message: `addNonvoter: ${other} is already a voter`,
    });
  });
});

describe('RaftBinding.transferLeadership', () => {
  it('hands leadership to a named voter or to the best one; refuses elsewhere and to a non-voter', async () => {
    group = new InmemBindings(16);
    await group.start(['a', 'b', 'c']);
    const first = await group.leader();
    const [target, third] = ['a', 'b', 'c'].filter((id) => id !== first.id) as [string, string];
    expect(await failure(group.member(third).transferLeadership(target))).toMatchObject({
      code: 'NOT_LEADER',
      leader: first.id,
    });
    await first.demote(third);
    expect(await failure(first.transferLeadership(third))).toMatchObject({
      code: 'INVALID_INPUT',
      message: `transferLeadership: ${third} is not a voter`,
    });

    expect(await first.transferLeadership(target)).toEqual({ leader: target });
    expect(group.member(target).status().role).toBe('leader');
    // Without a target the most up-to-date voter takes over: the only other voter here.
    expect(await group.member(target).transferLeadership()).toEqual({ leader: first.id });
  });
});

describe('RaftBinding.status after a local failure', () => {
  it('reports the role stopped and the cause', async () => {
    group = new InmemBindings(17);
    const storage = new CrashableStorage(new MemoryStore());
    const a = await group.open('a', storage);
    expect(a.status().role).toBe('leader');
    expect(a.status().stopCause).toBeUndefined();
    storage.crash();
    expect(await failure(a.proposeInput(set('k', 'v')))).toMatchObject({ code: 'SHUTDOWN' });
    expect(a.status()).toMatchObject({ role: 'stopped', stopCause: 'the storage crashed' });
  });
});

describe('RaftBinding member calls at their edges', () => {
  it('lists members in id order whatever the order they joined in', async () => {
    group = new InmemBindings(18);
    await group.start(['c', 'a', 'b']);
    const leader = await group.leader();
    expect(leader.members().map((m) => m.id)).toEqual(['a', 'b', 'c']);
    const follower = [...group.members.values()].find((m) => m !== leader) as RaftBinding;
    expect(follower.members().map((m) => m.id)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a non-voter without an id; transfer to the leader itself keeps it', async () => {
    group = new InmemBindings(19);
    const [a] = (await group.start(['a'])) as [RaftBinding];
    for (const id of ['', 7 as unknown as string]) {
      expect(await failure(a.addNonvoter(id))).toMatchObject({
        code: 'INVALID_INPUT',
        message: 'addNonvoter: id must be a non-empty string',
      });
    }
    expect(memberIds(a)).toEqual(['a']);
    expect(await a.transferLeadership('a')).toEqual({ leader: 'a' });
    expect(a.status().role).toBe('leader');
  });

  it('names the leader when a follower is asked to transfer leadership', async () => {
    group = new InmemBindings(20);
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader.id) as string;
    expect(await failure(group.member(follower).transferLeadership())).toMatchObject({
      code: 'NOT_LEADER',
      message: `transferLeadership: ${follower} does not lead; ask the leader (${leader.id})`,
      leader: leader.id,
    });
  });

  it('reports the lag of a dead member, and refuses to demote a live voter the majority needs unless forced', async () => {
    group = new InmemBindings(21);
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    const [live, dead] = ['a', 'b', 'c'].filter((id) => id !== leader.id) as [string, string];
    await group.kill(dead);
    for (let i = 0; i < 3; i++) await leader.proposeInput(set(`k${i}`, 'v'));
    const health = leader.members().find((m) => m.id === dead)?.health;
    const last = leader.raftStats().lastLogIndex;
    expect(health?.lag).toBe(last - (health?.matchIndex ?? last));
    expect(health?.lag).toBeGreaterThanOrEqual(3);
    await silentOnLeader(leader, dead);
    expect(await failure(leader.demote(live))).toMatchObject({
      code: 'INVALID_INPUT',
      message: `demote ${live}: only 1 of the 2 voters left would be live, fewer than a majority (2): the group would stop; force it to demote anyway`,
    });
    const forced = await failure(leader.demote(live, { force: true, timeoutMs: 300 }));
    expect(forced.code).not.toBe('INVALID_INPUT');
    expect(leader.members().find((m) => m.id === live)?.role).toBe('nonvoter');
  });
});
