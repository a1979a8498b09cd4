import { afterEach, describe, expect, it } from 'vitest';
import { RaftBinding } from '../../src/index.js';
import { collect, FAST_BINDING, set } from '../support/binding-group.js';
import { InmemBindings, memberIds } from '../support/inmem-bindings.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { waitFor } from '../support/wait.js';

let group: InmemBindings;

afterEach(async () => {
  await group.closeAll();
});

describe('deadMemberTimeout', () => {
  it('lets the leader remove a member silent for that long, and only that one', async () => {
    group = new InmemBindings(21, { deadMemberTimeout: 1000 });
    await group.start(['a', 'b', 'c', 'd']);
    const leader = await group.leader();
    const dead = ['a', 'b', 'c', 'd'].find((id) => id !== leader.id) as string;
    const changes = collect(leader.observeMembershipChange());
    await group.kill(dead);
    await waitFor(() => !memberIds(leader).includes(dead), 5000, `the leader to remove ${dead}`);
    await waitFor(() => changes.items.some((c) => c.id === dead && !c.joined), 5000, 'the removal to commit');
    const live = [...group.members.values()];
    for (const m of live) await waitFor(() => !memberIds(m).includes(dead), 5000, `${m.id} to drop ${dead}`);
    // The live members stay: three voters, still writable and tolerating a failure again.
    expect(memberIds(leader)).toEqual(live.map((m) => m.id).sort());
    expect(leader.members().every((m) => m.role === 'voter')).toBe(true);
    await leader.proposeInput(set('k', 'v'));
  });

  it('logs the removal of a dead member, naming it, its silence and the index', async () => {
    const logger = new RecordingLogger();
    group = new InmemBindings(23, { deadMemberTimeout: 1000, logger });
    await group.start(['a', 'b', 'c', 'd']);
    const leader = await group.leader();
    const first = ['a', 'b', 'c', 'd'].find((id) => id !== leader.id) as string;
    await group.kill(first);
    await waitFor(() => !memberIds(leader).includes(first), 5000, `the leader to remove ${first}`);
    const removed = logger.find('warn', /^removed dead member/);
    expect(removed.map((l) => l.message)).toEqual([`removed dead member ${first} (silent for 1000 ms)`]);
    expect(removed[0]?.details).toMatchObject({ localId: leader.id, member: first });
    expect(removed[0]?.details.index).toBeGreaterThan(0);
    expect(logger.find('warn', /^dead members kept/)).toEqual([]);
  });

  it('counts the silence of a member from when it joined, not from when the leader took over', async () => {
    group = new InmemBindings(25, { deadMemberTimeout: 1500 });
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    // Longer than the timeout after the leader took over (the time passing is what is tested, not a
    // race), a non-voter that never shows up is added.
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const addedAt = Date.now();
    await leader.addNonvoter('ghost');
    await waitFor(() => !memberIds(leader).includes('ghost'), 5000, 'the leader to remove the ghost');
    expect(Date.now() - addedAt).toBeGreaterThanOrEqual(1500);
  });

  it('is off by default: a dead member stays listed', async () => {
    group = new InmemBindings(22);
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    const dead = ['a', 'b', 'c'].find((id) => id !== leader.id) as string;
    await group.kill(dead);
    // Far past any timeout one could have meant, the member is still there.
    await waitFor(
      () => (leader.members().find((m) => m.id === dead)?.health?.lastContactMs ?? 0) > 2000,
      5000,
      `the leader to see ${dead} silent for two seconds`,
    );
    expect(memberIds(leader)).toContain(dead);
  });

  it('must be at least the election timeout', () => {
    expect(
      () =>
        new RaftBinding({
          id: 'a',
          broker: 'mqtt://127.0.0.1:1',
          ...FAST_BINDING,
          deadMemberTimeout: FAST_BINDING.electionTimeout - 1,
        }),
    ).toThrow(/deadMemberTimeout: must be at least electionTimeout \(50 ms\)/);
  });
});
