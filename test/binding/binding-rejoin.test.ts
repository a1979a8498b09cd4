/**
 * Members that leave, are removed, or lose their store come back only through the leader, and a
 * removed member stays quiet (design §7; Raft thesis §4.2.3).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError, type RaftBinding } from '../../src/index.js';
import { BindingGroup, set, textState } from '../support/binding-group.js';
import { waitFor } from '../support/wait.js';

let group: BindingGroup | null = null;

afterEach(async () => {
  await group?.shutdown();
  group = null;
});

interface RaftInside {
  raft: {
    removeServer(id: string): Promise<{ index: number }>;
    on(event: 'stateChange', listener: (e: { current: string }) => void): void;
  };
}

function voters(binding: RaftBinding): string[] {
  return binding
    .status()
    .members.filter((m) => m.suffrage === 'voter')
    .map((m) => m.id)
    .sort();
}

async function threeMembers(): Promise<BindingGroup> {
  group = await BindingGroup.create();
  await group.open('a', { bootstrap: true });
  await group.open('b');
  await group.open('c');
  await waitFor(() => voters(group?.member('a') as RaftBinding).length === 3, 5000, 'three voters');
  return group;
}

describe('leaving, removal and rejoining', () => {
  it('a member that left joins again on open and serves linearizable reads', async () => {
    const g = await threeMembers();
    await g.member('a').proposeInput(set('before', '1'));
    await g.member('b').close();
    await waitFor(() => !voters(g.member('a')).includes('b'), 5000, 'b to be removed');
    await g.member('a').proposeInput(set('while', 'away'));

    const b = await g.open('b');
    await waitFor(() => voters(g.member('a')).includes('b'), 5000, 'b to be a voter again');
    await g.member('c').proposeInput(set('after', 'rejoin'));
    const state = textState(await b.getState({ consistency: 'linearizable' }));
    expect(state).toEqual([
      ['after', 'rejoin'],
      ['before', '1'],
      ['while', 'away'],
    ]);
    expect(b.status().leader).not.toBeNull();
    await b.proposeInput(set('from', 'b'));
    await g.converge({ before: '1', while: 'away', after: 'rejoin', from: 'b' });
  }, 30_000);

  it('a member whose store was wiped joins again with the same id', async () => {
    const g = await threeMembers();
    for (let i = 0; i < 5; i++) await g.member('a').proposeInput(set(`k${i}`, `${i}`));
    await g.member('c').close({ leave: false });
    await g.wipe('c');

    const c = await g.open('c');
    await waitFor(() => voters(g.member('a')).join() === 'a,b,c', 10_000, 'c to be a voter again');
    await c.proposeInput(set('from', 'c'));
    const expected = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, `${i}`]));
    await g.converge({ ...expected, from: 'c' });
  }, 30_000);

  it('a member removed while running says so, refuses calls and does not disturb the group', async () => {
    const g = await threeMembers();
    const leader = await g.leader();
    const c = g.member(leader.id === 'c' ? 'b' : 'c');
    await (leader as unknown as RaftInside).raft.removeServer(c.id);
    await waitFor(() => c.status().role === 'removed', 5000, `${c.id} to report its removal`);

    const proposal = await c.proposeInput(set('x', '1')).catch((err: unknown) => err);
    expect(isRaftError(proposal, 'REMOVED')).toBe(true);
    const read = await c.get('x').catch((err: unknown) => err);
    expect(isRaftError(read, 'REMOVED')).toBe(true);
    expect(c.status().members.map((m) => m.id)).not.toContain(c.id);

    // It never campaigns again: no pre-vote, no election, whatever the group does meanwhile.
    const roles: string[] = [];
    (c as unknown as RaftInside).raft.on('stateChange', ({ current }) => roles.push(current));
    for (let i = 0; i < 5; i++) await leader.proposeInput(set(`k${i}`, `${i}`));
    await waitFor(
      () => c.raftStats().commitIndex < leader.raftStats().commitIndex,
      5000,
      'the group to move on',
    );
    expect(roles).toEqual([]);
    expect(c.raftStats().state).toBe('follower');
    expect(c.status().role).toBe('removed');
  }, 30_000);
});
