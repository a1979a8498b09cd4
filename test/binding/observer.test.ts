import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, RaftBinding, type RaftError } from '../../src/index.js';
import { collect, set } from '../support/binding-group.js';
import { InmemBindings, reopenable, roles } from '../support/inmem-bindings.js';
import { waitFor } from '../support/wait.js';

let group: InmemBindings;

afterEach(async () => {
  await group.closeAll();
});

describe('RaftBinding with role observer', () => {
  it('joins as a non-voter, observes every change, proposes through the leader, and stays one across a restart', async () => {
    group = new InmemBindings(31);
    await group.start(['a', 'b', 'c']);
    const storage = reopenable(new MemoryStore());
    const observer = await group.open('o', storage, { role: 'observer' });
    expect(roles(observer)).toEqual([
      ['a', 'voter'],
      ['b', 'voter'],
      ['c', 'voter'],
      ['o', 'nonvoter'],
    ]);
    const seen = collect(observer.observeStateChange());
    const { index } = await observer.proposeInput(set('from-o', 'x'));
    await (await group.leader()).proposeInput(set('from-leader', 'y'));
    await waitFor(() => seen.items.length === 2, 5000, 'the observer to see both writes');
    expect(seen.items.map((input) => (input.op === 'set' ? input.key : input.op))).toEqual([
      'from-o',
      'from-leader',
    ]);
    expect(index).toBeGreaterThan(0);

    await group.kill('o');
    // A restart of a listed observer changes no configuration: it is in the group already.
    const leaderBefore = await group.leader();
    const configsBefore = leaderBefore.status().members;
    const logBefore = leaderBefore.raftStats().lastLogIndex;
    const again = await group.open('o', storage, { role: 'observer' });
    const leader = await group.leader();
    expect(leader.raftStats().lastLogIndex).toBe(logBefore);
    expect(leader.status().members).toEqual(configsBefore);
    expect(roles(leader).find(([id]) => id === 'o')).toEqual(['o', 'nonvoter']);
    expect(again.status().role).toBe('follower');
  });

  it('refuses to bootstrap a group', async () => {
    group = new InmemBindings(32);
    const err = (() => {
      try {
        new RaftBinding({ id: 'o', broker: 'mqtt://127.0.0.1:1', bootstrap: true, role: 'observer' });
      } catch (e) {
        return e as RaftError;
      }
      throw new Error('expected INVALID_CONFIG');
    })();
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toMatch(/^role: /);
  });
});
