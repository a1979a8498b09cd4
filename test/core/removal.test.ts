/**
 * Removed servers learn of their removal and stay quiet (thesis §4.2.3), and come back only
 * through the leader: a server that left knows the index of its removal even when its log ends
 * before it, and a server added back after losing its log starts from an empty log on the leader.
 */
import { describe, expect, it } from 'vitest';
import { RaftCore, seededRandom } from '../../src/core/index.js';
import { TestCluster } from '../support/cluster.js';
import { deliveredSince, ofType, tickUntil } from './helpers.js';
import { acceptedIndex, hold, joinNode, suffrageIn } from './scenario-helpers.js';

describe('removed servers', () => {
  it('a follower removed while connected receives its removal and never campaigns', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const removal = acceptedIndex(c.core('a').proposeConfChange({ type: 'removeServer', id: 'c' }));
    c.stabilize();
    // c holds the entry that removed it, so its own configuration no longer lists it.
    expect(c.core('c').status().lastIndex).toBeGreaterThanOrEqual(removal);
    expect(suffrageIn(c.core('c'), 'c')).toBeUndefined();

    const mark = c.delivered.length;
    acceptedIndex(c.propose('a', 'x'));
    c.tick(100);
    const fromC = deliveredSince(c, mark).filter((m) => m.from === 'c');
    expect(ofType(fromC, 'voteRequest')).toEqual([]);
    expect(c.core('c').role).toBe('follower');
    expect(c.leader()).toBe('a');
    expect(c.core('a').term).toBe(1);
  });

  it('a server restarted with the index of its removal does not campaign until it is added back', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    c.stabilize();
    // c asked to leave and heard the answer, but never received the entry itself.
    const toC = hold(c, (m) => m.to === 'c');
    const removal = acceptedIndex(c.core('a').proposeConfChange({ type: 'removeServer', id: 'c' }));
    c.stabilize();
    c.tick(50);
    toC.drop();
    expect(suffrageIn(c.core('c'), 'c')).toBe('voter');
    const node = c.node('c');
    node.core = new RaftCore(
      { id: 'c', random: seededRandom(3) },
      { ...node.storage.initialState(), removedAt: removal },
    );

    const mark = c.delivered.length;
    c.tick(100);
    expect(ofType(deliveredSince(c, mark), 'voteRequest').filter((m) => m.from === 'c')).toEqual([]);
    expect(c.core('c').role).toBe('follower');

    acceptedIndex(c.core('a').proposeConfChange({ type: 'addVoter', id: 'c' }));
    tickUntil(c, () => suffrageIn(c.core('c'), 'c') === 'voter', 100);
    expect(c.core('c').status().lastIndex).toBe(c.core('a').status().lastIndex);
    expect(c.core('c').status().configurationIndex).toBeGreaterThan(removal);
  });

  it('a server added back after losing its log is sent the whole log again', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    for (const v of ['x', 'y']) acceptedIndex(c.propose('a', v));
    c.stabilize();
    // c comes back with an empty store: the leader's record of what it held is now false.
    joinNode(c, 'c');
    acceptedIndex(c.core('a').proposeConfChange({ type: 'removeServer', id: 'c' }));
    c.stabilize();
    acceptedIndex(c.core('a').proposeConfChange({ type: 'addVoter', id: 'c' }));
    tickUntil(c, () => suffrageIn(c.core('a'), 'c') === 'voter', 100);
    c.tick(5);
    expect(c.core('c').status().lastIndex).toBe(c.core('a').status().lastIndex);
    expect(c.core('c').status().commitIndex).toBe(c.core('a').status().commitIndex);
  });
});
