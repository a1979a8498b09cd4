/**
 * Raft thesis §6.4 "Processing read-only queries more efficiently" (ReadIndex): the leader records
 * its commit index as the read index, confirms it still leads by a round of heartbeats answered by
 * a majority, and only then lets the read be served. A new leader first commits an entry of its
 * own term. Followers ask the leader for the read index. A leader that cannot confirm must fail
 * the read rather than answer from a stale state.
 */
import { describe, expect, it } from 'vitest';
import type { ReadState } from '../../src/core/index.js';
import { TestCluster } from '../support/cluster.js';
import { deliveredSince, drain, must, ofType, tickUntil } from './helpers.js';
import { acceptedIndex, hold, readStatesOf, tickOnly, watchReadies } from './scenario-helpers.js';

describe('thesis §6.4 ReadIndex on the leader', () => {
  it('answers with the commit index at request time, once a majority answered the heartbeat round', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e']);
    expect(c.elect('a')).toBe('a');
    const x = acceptedIndex(c.propose('a', 'x'));
    const a = c.core('a');
    const readies = watchReadies(c.node('a'));
    const answers = hold(c, (m) => m.type === 'heartbeatResponse' && m.context !== 0);
    const mark = c.delivered.length;
    a.readIndex(42);
    c.stabilize();
    const round = ofType(deliveredSince(c, mark), 'heartbeatRequest');
    expect(round.map((m) => m.to).sort()).toEqual(['b', 'c', 'd', 'e']);
    const context = must(round[0]).context;
    expect(context).not.toBe(0);
    expect(round.every((m) => m.context === context)).toBe(true);
    expect(answers.held).toHaveLength(4);
    expect(readStatesOf(readies)).toEqual([]);

    // Writes after the request do not change its read index.
    const y = acceptedIndex(c.propose('a', 'y'));
    expect(a.status().commitIndex).toBe(y);
    expect(readStatesOf(readies)).toEqual([]);

    const [fromB, fromC] = answers.held.splice(0, 2);
    answers.drop();
    c.send(must(fromB));
    // a and b: two of five.
    expect(readStatesOf(readies)).toEqual([]);
    c.send(must(fromC));
    expect(readStatesOf(readies)).toEqual([{ requestId: 42, index: x, ok: true }]);
  });

  it('a single-voter cluster answers at once', () => {
    const c = new TestCluster(['a']);
    expect(c.elect('a')).toBe('a');
    const x = acceptedIndex(c.propose('a', 'x'));
    const a = c.core('a');
    a.readIndex(7);
    const ready = drain(a);
    expect(ready.readStates).toEqual([{ requestId: 7, index: x, ok: true }]);
    expect(ready.messages).toEqual([]);
  });

  it('a new leader answers only once it has committed an entry of its term', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    expect(c.core('a').status().commitIndex).toBe(2);
    // b's no-op cannot commit while its append answers are lost.
    const lost = c.filter((m) => !(m.type === 'appendResponse' && m.to === 'b'));
    expect(c.elect('b')).toBe('b');
    const b = c.core('b');
    expect(b.status()).toMatchObject({ term: 2, commitIndex: 2, lastIndex: 3 });
    const readies = watchReadies(c.node('b'));
    b.readIndex(1);
    c.tick(5);
    expect(readStatesOf(readies)).toEqual([]);

    lost();
    tickUntil(c, () => readStatesOf(readies).length > 0, 5);
    expect(b.status().commitIndex).toBe(3);
    // The index includes the no-op: a read index from the earlier term's commit could be stale.
    expect(readStatesOf(readies)).toEqual([{ requestId: 1, index: 3, ok: true }]);
  });

  it('a read whose heartbeat round was lost is still answered by a later heartbeat', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const x = acceptedIndex(c.propose('a', 'x'));
    const readies = watchReadies(c.node('a'));
    const lost = c.filter((m) => !(m.type === 'heartbeatResponse' && m.context !== 0));
    c.core('a').readIndex(5);
    c.stabilize();
    lost();
    // The leader is healthy and heartbeats every tick, so the read must not hang.
    c.tick(5);
    expect(c.core('a').role).toBe('leader');
    expect(readStatesOf(readies)).toEqual([{ requestId: 5, index: x, ok: true }]);
  });
});

describe('thesis §6.4 ReadIndex from a follower', () => {
  it('is forwarded to the leader and the answer comes back as a read state', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const x = acceptedIndex(c.propose('a', 'x'));
    const readies = watchReadies(c.node('b'));
    const leaderReadies = watchReadies(c.node('a'));
    const mark = c.delivered.length;
    c.core('b').readIndex(9);
    c.stabilize();
    const since = deliveredSince(c, mark);
    expect(ofType(since, 'readIndexRequest')).toEqual([
      expect.objectContaining({ from: 'b', to: 'a', requestId: 9 }),
    ]);
    expect(ofType(since, 'heartbeatRequest').filter((m) => m.context !== 0)).toHaveLength(2);
    expect(ofType(since, 'readIndexResponse')).toEqual([
      expect.objectContaining({ from: 'a', to: 'b', requestId: 9, ok: true, index: x }),
    ]);
    expect(readStatesOf(readies)).toEqual([{ requestId: 9, index: x, ok: true }]);
    // The leader does not report the follower's read as its own.
    expect(readStatesOf(leaderReadies)).toEqual([]);
  });

  it('a follower that knows no leader fails the read at once', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    const b = c.core('b');
    b.readIndex(3);
    const ready = drain(b);
    expect(ready.readStates).toEqual([{ requestId: 3, index: 0, ok: false }]);
    expect(ready.messages).toEqual([]);
  });

  it("pending forwarded reads fail when the follower's leader changes", () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const readies = watchReadies(c.node('b'));
    const requests = hold(c, (m) => m.type === 'readIndexRequest');
    c.core('b').readIndex(11);
    c.stabilize();
    expect(requests.held).toHaveLength(1);
    expect(readStatesOf(readies)).toEqual([]);

    acceptedIndex(c.core('a').transferLeadership('c'));
    c.stabilize();
    expect(c.leader()).toBe('c');
    expect(c.core('b').leader).toBe('c');
    expect(readStatesOf(readies)).toEqual([{ requestId: 11, index: 0, ok: false }]);

    // The old request finally reaches a, which no longer leads: nothing more comes of it.
    requests.release();
    c.tick(2);
    expect(readStatesOf(readies)).toHaveLength(1);
  });
});

describe('thesis §6.4 ReadIndex on a deposed leader', () => {
  /**
   * a leads {a, b, c}, is cut off, and (its clock standing still) does not notice while b and c
   * elect a new leader and commit writes. Returns the new leader and its commit index.
   */
  function deposeIsolatedLeader() {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const reconnect = c.isolate('a');
    for (let i = 0; i < 100 && !['b', 'c'].includes(c.leader() ?? ''); i++) tickOnly(c, ['b', 'c']);
    const leader = must(c.leader());
    expect(['b', 'c']).toContain(leader);
    c.propose(leader, 'y');
    c.propose(leader, 'z');
    const newCommit = c.core(leader).status().commitIndex;
    expect(c.core('a').role).toBe('leader');
    expect(c.core('a').status().commitIndex).toBeLessThan(newCommit);
    return { c, reconnect, leader, newCommit };
  }

  const staleOk = (states: readonly ReadState[], newCommit: number) =>
    states.filter((r) => r.ok && r.index < newCommit);

  it('never reports ok, and fails the read when check-quorum makes it step down', () => {
    const { c, newCommit } = deposeIsolatedLeader();
    const a = c.core('a');
    const readies = watchReadies(c.node('a'));
    a.readIndex(1);
    c.stabilize();
    expect(readStatesOf(readies)).toEqual([]);
    tickUntil(c, () => a.role !== 'leader', 30);
    const states = readStatesOf(readies);
    expect(staleOk(states, newCommit)).toEqual([]);
    expect(states).toEqual([expect.objectContaining({ requestId: 1, ok: false })]);
  });

  it('fails the read when it hears of the newer term', () => {
    const { c, reconnect, leader, newCommit } = deposeIsolatedLeader();
    const a = c.core('a');
    const readies = watchReadies(c.node('a'));
    a.readIndex(1);
    c.stabilize();
    reconnect();
    // Only the new leader's clock moves: its heartbeat carries the newer term to a.
    tickOnly(c, [leader]);
    expect(a.role).toBe('follower');
    expect(a.leader).toBe(leader);
    const states = readStatesOf(readies);
    expect(staleOk(states, newCommit)).toEqual([]);
    expect(states).toEqual([expect.objectContaining({ requestId: 1, ok: false })]);
  });

  it('a follower of the deposed leader does not get a stale answer either', () => {
    // 5 servers: a leads and keeps d with it in a minority; b, c and e move on without them.
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const heal = c.partition(['a', 'd'], ['b', 'c', 'e']);
    for (let i = 0; i < 100 && !['b', 'c', 'e'].includes(c.leader() ?? ''); i++) tickOnly(c, ['b', 'c', 'e']);
    const leader = must(c.leader());
    c.propose(leader, 'y');
    const newCommit = c.core(leader).status().commitIndex;
    expect(c.core('a').role).toBe('leader');
    expect(c.core('d').leader).toBe('a');

    const readies = watchReadies(c.node('d'));
    c.core('d').readIndex(4);
    c.stabilize();
    expect(readStatesOf(readies)).toEqual([]);
    tickUntil(c, () => readStatesOf(readies).length > 0, 40);
    const states = readStatesOf(readies);
    expect(staleOk(states, newCommit)).toEqual([]);
    expect(states).toEqual([expect.objectContaining({ requestId: 4, ok: false })]);
    heal();
  });
});
