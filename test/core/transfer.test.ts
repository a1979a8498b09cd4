/**
 * Raft thesis §3.10 "Leadership transfer extension": the leader stops accepting requests, brings
 * the target's log up to date, then sends it TimeoutNow; the target campaigns at once (skipping
 * pre-vote, and past the voters' leader lease). A transfer that does not complete within an
 * election timeout is abandoned.
 */
import { describe, expect, it } from 'vitest';
import { appliedCommands, TestCluster } from '../support/cluster.js';
import { deliveredSince, drain, heartbeatRequest, must, newCore, ofType } from './helpers.js';
import { acceptedIndex, text } from './scenario-helpers.js';

const electionTicks = 10;

/** Ticks until `done` holds, at most `max` ticks; returns the ticks used (0 when it already holds). */
function ticksUntil(c: TestCluster, done: () => boolean, max: number): number {
  let n = 0;
  while (!done()) {
    if (n === max) throw new Error(`condition not reached within ${max} ticks`);
    c.tick();
    n++;
  }
  return n;
}

describe('thesis §3.10 leadership transfer', () => {
  it('hands leadership to an up-to-date follower within one election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const a = c.core('a');
    expect(a.transferLeadership('b')).toMatchObject({ accepted: true, term: 1 });
    expect(a.status().transferTarget).toBe('b');
    c.stabilize();
    const ticks = ticksUntil(c, () => c.leader() === 'b', electionTicks);
    expect(ticks).toBeLessThan(electionTicks);
    expect(c.core('b').term).toBe(2);
    expect(a.role).toBe('follower');
    expect(a.term).toBe(2);
    expect(a.leader).toBe('b');
    expect(a.status().transferTarget).toBeNull();
    // The new leader serves normally, and the old one follows it.
    c.propose('b', 'y');
    expect(appliedCommands(c.node('a'))).toEqual(['x', 'y']);
  });

  it('brings a lagging target up to date before sending it TimeoutNow', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const reconnect = c.isolate('c');
    for (let i = 0; i < 5; i++) c.propose('a', `missed-${i}`);
    const last = c.core('a').status().lastIndex;
    expect(c.core('c').status().lastIndex).toBe(1);
    reconnect();
    const mark = c.delivered.length;
    acceptedIndex(c.core('a').transferLeadership('c'));
    c.stabilize();
    // c is behind: no TimeoutNow until it has the leader's whole log.
    expect(ofType(deliveredSince(c, mark), 'timeoutNow')).toEqual([]);
    expect(c.core('a').role).toBe('leader');

    const ticks = ticksUntil(c, () => c.leader() === 'c', electionTicks);
    expect(ticks).toBeLessThan(electionTicks);
    const since = deliveredSince(c, mark);
    const timeoutAt = since.findIndex((m) => m.type === 'timeoutNow');
    expect(since.filter((m) => m.type === 'timeoutNow')).toEqual([
      expect.objectContaining({ from: 'a', to: 'c', term: 1 }),
    ]);
    const entriesToC = ofType(since.slice(0, timeoutAt), 'appendRequest')
      .filter((m) => m.to === 'c')
      .flatMap((m) => m.entries.map((e) => e.index));
    for (let i = 2; i <= last; i++) expect(entriesToC).toContain(i);
    const caughtUp = ofType(since.slice(0, timeoutAt), 'appendResponse').filter(
      (m) => m.from === 'c' && m.success && m.index === last,
    );
    expect(caughtUp.length).toBeGreaterThan(0);
    expect(c.core('c').term).toBe(2);
    expect(appliedCommands(c.node('c'))).toEqual([
      'missed-0',
      'missed-1',
      'missed-2',
      'missed-3',
      'missed-4',
    ]);
  });

  it('without a target, picks the most up-to-date voter', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    // b falls behind; c has everything.
    const reconnect = c.isolate('b');
    c.propose('a', 'x');
    c.propose('a', 'y');
    reconnect();
    const a = c.core('a');
    acceptedIndex(a.transferLeadership());
    expect(a.status().transferTarget).toBe('c');
    c.stabilize();
    ticksUntil(c, () => c.leader() !== 'a', electionTicks);
    expect(c.leader()).toBe('c');
    expect(c.core('c').term).toBe(2);
  });

  it('refuses proposals and membership changes while a transfer is in progress', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.isolate('c');
    const a = c.core('a');
    const before = a.status().lastIndex;
    acceptedIndex(a.transferLeadership('c'));
    expect(a.propose(text('x'))).toMatchObject({
      accepted: false,
      code: 'TRANSFER_IN_PROGRESS',
      leader: 'a',
    });
    expect(a.propose(new Uint8Array(), 'barrier')).toMatchObject({
      accepted: false,
      code: 'TRANSFER_IN_PROGRESS',
    });
    expect(a.proposeConfChange({ type: 'addNonvoter', id: 'x' })).toMatchObject({
      accepted: false,
      code: 'TRANSFER_IN_PROGRESS',
    });
    expect(a.transferLeadership('b')).toMatchObject({ accepted: false, code: 'TRANSFER_IN_PROGRESS' });
    c.stabilize();
    expect(a.status().lastIndex).toBe(before);
    expect(a.status().transferTarget).toBe('c');
  });

  it('a transfer to a target that is cut off is abandoned after an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.isolate('c');
    const a = c.core('a');
    acceptedIndex(a.transferLeadership('c'));
    c.stabilize();
    c.tick(electionTicks - 1);
    expect(a.status().transferTarget).toBe('c');
    expect(a.propose(text('x'))).toMatchObject({ accepted: false, code: 'TRANSFER_IN_PROGRESS' });
    c.tick();
    expect(a.status().transferTarget).toBeNull();
    expect(a.role).toBe('leader');
    expect(a.term).toBe(1);
    expect(c.leader()).toBe('a');
    const x = acceptedIndex(c.propose('a', 'x'));
    expect(a.status().commitIndex).toBe(x);
    expect(appliedCommands(c.node('b'))).toEqual(['x']);
  });

  it('refuses transfers to a non-voter, to an unknown server, to itself, and from a follower', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    acceptedIndex(a.proposeConfChange({ type: 'addNonvoter', id: 'n' }));
    c.stabilize();
    for (const target of ['n', 'zz', 'a']) {
      expect(a.transferLeadership(target)).toMatchObject({
        accepted: false,
        code: 'INVALID_INPUT',
        leader: 'a',
      });
    }
    expect(a.status().transferTarget).toBeNull();
    expect(c.core('b').transferLeadership('c')).toMatchObject({
      accepted: false,
      code: 'NOT_LEADER',
      leader: 'a',
    });
    expect(c.core('b').transferLeadership()).toMatchObject({ accepted: false, code: 'NOT_LEADER' });
    // None of the refusals disturbed anything.
    c.tick(2 * electionTicks);
    expect(c.leader()).toBe('a');
    expect(a.term).toBe(1);
    acceptedIndex(c.propose('a', 'x'));
  });

  it('refuses a transfer when there is no other voter', () => {
    const c = new TestCluster(['a']);
    expect(c.elect('a')).toBe('a');
    expect(c.core('a').transferLeadership()).toMatchObject({ accepted: false, code: 'INVALID_INPUT' });
    expect(c.core('a').role).toBe('leader');
  });

  it('refuses a transfer to a staging server', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    // 'd' does not exist, so it never catches up and stays staging.
    acceptedIndex(c.core('a').proposeConfChange({ type: 'addVoter', id: 'd' }));
    c.stabilize();
    expect(c.core('a').transferLeadership('d')).toMatchObject({ accepted: false, code: 'INVALID_INPUT' });
  });

  it('TimeoutNow makes the target campaign without pre-vote, and voters in their lease grant it', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    c.tick(2);
    // c heard from a leader a moment ago: it would ignore an ordinary candidate.
    expect(c.core('c').leader).toBe('a');
    const mark = c.delivered.length;
    acceptedIndex(c.core('a').transferLeadership('b'));
    c.stabilize();
    const since = deliveredSince(c, mark);
    expect(ofType(since, 'timeoutNow')).toEqual([expect.objectContaining({ from: 'a', to: 'b' })]);
    const requests = ofType(since, 'voteRequest');
    expect(requests.length).toBeGreaterThan(0);
    for (const m of requests) {
      expect(m).toMatchObject({ from: 'b', term: 2, preVote: false, transfer: true });
    }
    expect(ofType(since, 'voteResponse').filter((m) => m.from === 'c')).toEqual([
      expect.objectContaining({ to: 'b', term: 2, granted: true, preVote: false }),
    ]);
    expect(c.leader()).toBe('b');
  });

  it('an ordinary campaign at the same moment is ignored by voters in their lease', () => {
    // The contrast to the test above: without the transfer flag, b gets nowhere.
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.tick(2);
    const mark = c.delivered.length;
    c.core('b').campaign();
    c.stabilize();
    expect(ofType(deliveredSince(c, mark), 'voteResponse').filter((m) => m.granted)).toEqual([]);
    expect(c.leader()).toBe('a');
    expect(c.core('a').term).toBe(1);
  });

  it('a server that is not a voter ignores TimeoutNow', () => {
    const config = {
      servers: [
        { id: 'a', suffrage: 'voter' as const },
        { id: 'b', suffrage: 'voter' as const },
        { id: 'n', suffrage: 'nonvoter' as const },
      ],
    };
    const n = newCore('n', config);
    n.step({ type: 'timeoutNow', from: 'a', to: 'n', term: 0 });
    expect(n.role).toBe('follower');
    expect(n.term).toBe(0);
    expect(n.hasReady()).toBe(false);
    const voter = newCore('b', config);
    // TimeoutNow counts only from the leader the voter knows (design §7).
    voter.step(heartbeatRequest('a', 'b', 0));
    drain(voter);
    voter.step({ type: 'timeoutNow', from: 'a', to: 'b', term: 0 });
    expect(voter.role).toBe('candidate');
    expect(voter.term).toBe(1);
    const ready = voter.ready();
    expect(ofType(ready.messages, 'voteRequest')).toEqual([
      expect.objectContaining({ to: 'a', term: 1, preVote: false, transfer: true }),
    ]);
    voter.advance(ready);
    expect(must(ready.hardState)).toMatchObject({ term: 1, vote: 'b' });
  });
});
