/**
 * Raft thesis chapter 4 "Cluster membership changes": single-server changes, each in effect from
 * the moment it is appended (§4.1); new servers join as non-voting members until they have caught
 * up (§4.2.1, hashicorp/raft's staging servers); a removed leader steps down once the change
 * commits (§4.2.2); removed servers cannot disrupt the cluster (§4.2.3).
 */
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/index.js';
import { appliedCommands, TestCluster } from '../support/cluster.js';
import { deliveredSince, drain, must, newCore, ofType, sent, tickUntil, voteResponse } from './helpers.js';
import { acceptedIndex, hold, joinNode, membersOf, suffrageIn, text, tickOnly } from './scenario-helpers.js';

const isConfig = (e: Entry) => e.type === 'config';

describe('thesis §4.2.1 adding servers', () => {
  it('addVoter adds the server as staging; the leader promotes it only once it has caught up', () => {
    const options = { maxPromotionLag: 2, maxEntriesPerMessage: 1, maxInflight: 1 };
    const c = new TestCluster(['a', 'b', 'c'], options);
    expect(c.elect('a')).toBe('a');
    for (let i = 0; i < 10; i++) c.propose('a', `x${i}`);
    const d = joinNode(c, 'd', options);
    expect(d.core.configuration.servers).toEqual([]);
    const a = c.core('a');

    const reconnect = c.isolate('d');
    const addIndex = acceptedIndex(a.proposeConfChange({ type: 'addVoter', id: 'd' }));
    c.stabilize();
    expect(suffrageIn(a, 'd')).toBe('staging');
    expect(a.status().commitIndex).toBe(addIndex);

    // Cut off, d never catches up, so it stays staging however long we wait.
    c.tick(50);
    expect(c.leader()).toBe('a');
    expect(a.term).toBe(1);
    expect(suffrageIn(a, 'd')).toBe('staging');
    expect(a.status().configurationIndex).toBe(addIndex);
    expect(d.core.status()).toMatchObject({ role: 'follower', term: 0, lastIndex: 0 });

    const mark = c.delivered.length;
    reconnect();
    tickUntil(c, () => suffrageIn(a, 'd') === 'voter', 5);
    c.stabilize();
    const promoteIndex = a.status().configurationIndex;
    expect(promoteIndex).toBeGreaterThan(addIndex);
    expect(a.status().commitIndex).toBeGreaterThanOrEqual(promoteIndex);

    // d was well behind when it first answered, and the promotion entry was only created after d
    // acknowledged entries within maxPromotionLag of the leader's last index.
    const since = deliveredSince(c, mark);
    const promotionSent = since.findIndex(
      (m) => m.type === 'appendRequest' && m.entries.some((e) => e.index === promoteIndex),
    );
    expect(promotionSent).toBeGreaterThan(0);
    const acksBefore = ofType(since.slice(0, promotionSent), 'appendResponse')
      .filter((m) => m.from === 'd' && m.success)
      .map((m) => m.index);
    expect(Math.min(...acksBefore)).toBeLessThan(promoteIndex - 1 - options.maxPromotionLag);
    expect(Math.max(...acksBefore)).toBeGreaterThanOrEqual(promoteIndex - 1 - options.maxPromotionLag);

    for (const id of ['a', 'b', 'c', 'd']) {
      expect(membersOf(c.core(id))).toEqual(['a:voter', 'b:voter', 'c:voter', 'd:voter']);
    }
    expect(d.core.status().commitIndex).toBe(a.status().commitIndex);
    expect(appliedCommands(d)).toEqual(appliedCommands(c.node('a')));
    // As a voter, d may now campaign.
    d.core.campaign();
    expect(d.core.role).toBe('preCandidate');
  });

  it('a staging server does not count towards a majority and cannot campaign', () => {
    // Two voters: a alone is not a majority, and a staging d must not make it one.
    const c = new TestCluster(['a', 'b']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    const d = joinNode(c, 'd');
    c.isolate('b');
    const addIndex = acceptedIndex(a.proposeConfChange({ type: 'addVoter', id: 'd' }));
    c.stabilize();
    const xIndex = acceptedIndex(c.propose('a', 'x'));
    // d holds and acknowledges everything, which would make a majority if d voted.
    expect(d.core.status().lastIndex).toBe(xIndex);
    expect(
      ofType(c.delivered, 'appendResponse').some((m) => m.from === 'd' && m.success && m.index === xIndex),
    ).toBe(true);
    expect(a.status().commitIndex).toBe(addIndex - 1);
    expect(suffrageIn(a, 'd')).toBe('staging');
    // d adopted the configuration that names it staging, and a staging server does not campaign.
    expect(suffrageIn(d.core, 'd')).toBe('staging');
    const mark = c.delivered.length;
    d.core.campaign();
    tickOnly(c, ['d'], 50);
    expect(d.core.role).toBe('follower');
    expect(d.core.term).toBe(1);
    expect(ofType(deliveredSince(c, mark), 'voteRequest')).toEqual([]);
  });

  it('adding a staging server does not raise the number of acknowledgements needed to commit', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    joinNode(c, 'd');
    // c and the new server are unreachable: a and b are still two of three voters.
    c.isolate('c');
    c.isolate('d');
    const addIndex = acceptedIndex(a.proposeConfChange({ type: 'addVoter', id: 'd' }));
    c.stabilize();
    expect(a.status().commitIndex).toBe(addIndex);
    const x = acceptedIndex(c.propose('a', 'x'));
    expect(a.status().commitIndex).toBe(x);
    expect(suffrageIn(a, 'd')).toBe('staging');
  });

  it('addNonvoter adds a nonvoter that receives the log but is never promoted and never campaigns', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const d = joinNode(c, 'd');
    acceptedIndex(c.core('a').proposeConfChange({ type: 'addNonvoter', id: 'd' }));
    c.stabilize();
    c.propose('a', 'y');
    expect(appliedCommands(d)).toEqual(['x', 'y']);
    expect(d.core.status().commitIndex).toBe(c.core('a').status().commitIndex);

    c.tick(50);
    expect(suffrageIn(c.core('a'), 'd')).toBe('nonvoter');
    expect(membersOf(d.core)).toEqual(['a:voter', 'b:voter', 'c:voter', 'd:nonvoter']);

    // The leader disappears: the voters elect another one; d never asks for votes.
    const mark = c.delivered.length;
    c.isolate('a');
    tickUntil(c, () => ['b', 'c'].includes(c.leader() ?? ''), 100);
    const leader = must(c.leader());
    expect(ofType(deliveredSince(c, mark), 'voteRequest').filter((m) => m.from === 'd')).toEqual([]);
    expect(d.core.role).toBe('follower');
    expect(d.core.leader).toBe(leader);
    c.propose(leader, 'z');
    expect(appliedCommands(d)).toEqual(['x', 'y', 'z']);
    expect(suffrageIn(c.core(leader), 'd')).toBe('nonvoter');
  });
});

describe('thesis §4.2.2 demoting and removing servers', () => {
  it('demoteVoter turns a voter into a nonvoter that no longer counts for commitment', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    // With four voters, a and b alone are not a majority.
    let cut = [c.isolate('c'), c.isolate('d')];
    const before = acceptedIndex(c.propose('a', 'before'));
    expect(a.status().commitIndex).toBe(before - 1);
    for (const heal of cut) heal();
    c.tick();
    expect(a.status().commitIndex).toBe(before);

    const demoteIndex = acceptedIndex(a.proposeConfChange({ type: 'demoteVoter', id: 'd' }));
    c.stabilize();
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(membersOf(c.core(id))).toEqual(['a:voter', 'b:voter', 'c:voter', 'd:nonvoter']);
    }
    expect(a.status().commitIndex).toBe(demoteIndex);

    // Three voters now: a and b are a majority.
    cut = [c.isolate('c'), c.isolate('d')];
    const after = acceptedIndex(c.propose('a', 'after'));
    expect(a.status().commitIndex).toBe(after);
    for (const heal of cut) heal();
    // A non-voter answers at most every nonvoterAckTicks (3 ticks): its first answer after the
    // cut is the success it held back, the next one a heartbeat's, which shows the leader that d
    // lacks an entry, so the leader sends it again.
    c.tick(6);
    // d still receives the log, but can no longer campaign.
    expect(appliedCommands(c.node('d'))).toEqual(['before', 'after']);
    c.core('d').campaign();
    expect(c.core('d').role).toBe('follower');
  });

  it('removeServer of a follower: the rest commit without it; it is told up to its removal, then nothing more', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    const removeIndex = acceptedIndex(a.proposeConfChange({ type: 'removeServer', id: 'c' }));
    c.stabilize();
    expect(a.status().commitIndex).toBe(removeIndex);
    expect(membersOf(a)).toEqual(['a:voter', 'b:voter']);
    expect(membersOf(c.core('b'))).toEqual(['a:voter', 'b:voter']);

    const mark = c.delivered.length;
    const x = acceptedIndex(c.propose('a', 'x'));
    c.tick(30);
    expect(a.status().commitIndex).toBe(x);
    expect(appliedCommands(c.node('b'))).toEqual(['x']);
    expect(deliveredSince(c, mark).filter((m) => m.from === 'a' && m.to === 'c')).toEqual([]);
    expect(c.core('c').status().lastIndex).toBeLessThan(x);
    expect(c.leader()).toBe('a');
    expect(a.term).toBe(1);
  });

  it('a removed leader leads until the change commits, then steps down; the others elect a leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const a = c.core('a');
    const acks = hold(c, (m) => m.type === 'appendResponse' && m.to === 'a');
    const removeIndex = acceptedIndex(a.proposeConfChange({ type: 'removeServer', id: 'a' }));
    c.stabilize();
    // In effect at once (thesis §4.1): a no longer counts itself, but it still leads.
    expect(membersOf(a)).toEqual(['b:voter', 'c:voter']);
    expect(membersOf(c.core('b'))).toEqual(['b:voter', 'c:voter']);
    c.tick(3);
    expect(a.role).toBe('leader');
    expect(a.status().commitIndex).toBeLessThan(removeIndex);
    const yIndex = acceptedIndex(c.propose('a', 'y'));

    acks.drop();
    tickUntil(c, () => a.role !== 'leader', 3);
    expect(a.status().commitIndex).toBeGreaterThanOrEqual(removeIndex);
    expect(a.role).toBe('follower');
    // It stepped down by itself, not because it heard of a newer term.
    expect(a.term).toBe(1);
    tickUntil(c, () => c.leader() !== null, 30);
    const leader = must(c.leader());
    expect(['b', 'c']).toContain(leader);
    expect(c.core(leader).term).toBeGreaterThan(1);

    // a is out of the configuration for good: it never campaigns or leads again.
    const mark = c.delivered.length;
    c.tick(100);
    expect(c.leader()).toBe(leader);
    expect(a.role).toBe('follower');
    expect(deliveredSince(c, mark).filter((m) => m.from === 'a')).toEqual([]);
    const z = acceptedIndex(c.propose(leader, 'z'));
    expect(c.core(leader).status().commitIndex).toBe(z);
    for (const id of ['b', 'c']) expect(appliedCommands(c.node(id))).toEqual(['x', 'y', 'z']);
    expect(z).toBeGreaterThan(yIndex);
  });

  it('a leader that steps down after its removal appends nothing more to its log', () => {
    // A staging server d caught up while a's own removal was pending (promotion has to wait for
    // it). When the removal commits, a steps down; from then on it must not act as a leader.
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    const d = joinNode(c, 'd');
    const reconnectD = c.isolate('d');
    acceptedIndex(a.proposeConfChange({ type: 'addVoter', id: 'd' }));
    c.stabilize();
    const acks = hold(c, (m) => m.type === 'appendResponse' && m.to === 'a' && m.from !== 'd');
    const removeIndex = acceptedIndex(a.proposeConfChange({ type: 'removeServer', id: 'a' }));
    c.stabilize();
    reconnectD();
    c.tick();
    expect(d.core.status().lastIndex).toBe(removeIndex);
    expect(suffrageIn(a, 'd')).toBe('staging');
    expect(a.status().lastIndex).toBe(removeIndex);

    acks.drop();
    tickUntil(c, () => a.role !== 'leader', 3);
    expect(a.status().commitIndex).toBe(removeIndex);
    // Only a leader appends entries; a is a follower now.
    expect(a.status().lastIndex).toBe(removeIndex);
    expect(membersOf(a)).toEqual(['b:voter', 'c:voter', 'd:staging']);
    expect(
      c
        .node('a')
        .storage.entries.map((e) => e.index)
        .at(-1),
    ).toBe(removeIndex);
  });

  it('a removed server that never learned of its removal cannot disrupt the cluster', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const reconnect = c.isolate('c');
    acceptedIndex(c.core('a').proposeConfChange({ type: 'removeServer', id: 'c' }));
    c.stabilize();
    expect(membersOf(c.core('a'))).toEqual(['a:voter', 'b:voter']);
    // c still believes it is a voter of {a, b, c}, and its election timer keeps firing.
    expect(suffrageIn(c.core('c'), 'c')).toBe('voter');
    c.tick(60);
    expect(c.core('c').role).not.toBe('leader');

    reconnect();
    const mark = c.delivered.length;
    c.tick(100);
    // c keeps asking, but nobody in the cluster answers it or moves to a new term.
    expect(ofType(deliveredSince(c, mark), 'voteRequest').some((m) => m.from === 'c')).toBe(true);
    expect(c.leader()).toBe('a');
    for (const id of ['a', 'b']) {
      expect(c.core(id).term).toBe(1);
      expect(c.core(id).leader).toBe('a');
    }
    const y = acceptedIndex(c.propose('a', 'y'));
    expect(c.core('b').status().commitIndex).toBe(y);
  });

  it('without pre-vote, a removed server campaigning in higher terms still cannot disrupt the cluster', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false });
    expect(c.elect('a')).toBe('a');
    const reconnect = c.isolate('c');
    acceptedIndex(c.core('a').proposeConfChange({ type: 'removeServer', id: 'c' }));
    c.stabilize();
    c.tick(60);
    expect(c.core('c').term).toBeGreaterThan(1);
    reconnect();
    c.tick(100);
    expect(c.leader()).toBe('a');
    for (const id of ['a', 'b']) {
      expect(c.core(id).term).toBe(1);
      expect(c.core(id).leader).toBe('a');
    }
  });
});

describe('thesis §4.1 one change at a time', () => {
  it('a second change while the first is uncommitted is refused', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    acceptedIndex(a.proposeConfChange({ type: 'addNonvoter', id: 'x' }));
    expect(a.proposeConfChange({ type: 'addNonvoter', id: 'y' })).toMatchObject({
      accepted: false,
      code: 'CONFIG_CHANGE_IN_PROGRESS',
      leader: 'a',
    });
    expect(a.proposeConfChange({ type: 'removeServer', id: 'c' })).toMatchObject({
      accepted: false,
      code: 'CONFIG_CHANGE_IN_PROGRESS',
    });
    c.stabilize();
    acceptedIndex(a.proposeConfChange({ type: 'addNonvoter', id: 'y' }));
    c.stabilize();
    expect(membersOf(a)).toEqual(['a:voter', 'b:voter', 'c:voter', 'x:nonvoter', 'y:nonvoter']);
  });

  it('a new leader refuses changes until it has committed an entry of its own term', () => {
    const a = newCore('a', ['a', 'b', 'c'], { options: { preVote: false } });
    a.campaign();
    drain(a);
    a.step(voteResponse('b', 'a', 1, true));
    expect(a.role).toBe('leader');
    expect(a.proposeConfChange({ type: 'addNonvoter', id: 'd' })).toMatchObject({
      accepted: false,
      code: 'CONFIG_CHANGE_IN_PROGRESS',
      leader: 'a',
    });
    const ready = drain(a);
    expect(ready.entries.map((e) => e.type)).toEqual(['noop']);
    expect(a.proposeConfChange({ type: 'addNonvoter', id: 'd' })).toMatchObject({
      accepted: false,
      code: 'CONFIG_CHANGE_IN_PROGRESS',
    });
    a.step({
      type: 'appendResponse',
      from: 'b',
      to: 'a',
      term: 1,
      success: true,
      index: 1,
      hintIndex: 0,
      hintTerm: 0,
    });
    expect(a.status().commitIndex).toBe(1);
    expect(a.proposeConfChange({ type: 'addNonvoter', id: 'd' })).toEqual({
      accepted: true,
      index: 2,
      term: 1,
    });
  });

  it('a leader elected in a cluster refuses changes until its no-op commits', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const a = c.core('a');
    // b takes over; the answers to its no-op are held back, so that entry of its term stays
    // uncommitted for now.
    const acks = hold(c, (m) => m.type === 'appendResponse' && m.to === 'b');
    acceptedIndex(a.transferLeadership('b'));
    c.stabilize();
    const b = c.core('b');
    expect(b.role).toBe('leader');
    expect(b.term).toBe(2);
    expect(b.proposeConfChange({ type: 'addNonvoter', id: 'x' })).toMatchObject({
      accepted: false,
      code: 'CONFIG_CHANGE_IN_PROGRESS',
    });
    expect(b.status().commitIndex).toBeLessThan(b.status().lastIndex);
    acks.release();
    expect(b.status().commitIndex).toBe(b.status().lastIndex);
    acceptedIndex(b.proposeConfChange({ type: 'addNonvoter', id: 'x' }));
  });

  it('prevIndex must name the configuration in force', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    expect(a.status().configurationIndex).toBe(0);
    const first = acceptedIndex(a.proposeConfChange({ type: 'addNonvoter', id: 'x', prevIndex: 0 }));
    c.stabilize();
    expect(a.status().configurationIndex).toBe(first);
    const before = a.status().lastIndex;
    expect(a.proposeConfChange({ type: 'addNonvoter', id: 'y', prevIndex: 0 })).toMatchObject({
      accepted: false,
      code: 'CONFIGURATION_CHANGED',
      leader: 'a',
    });
    expect(a.status().lastIndex).toBe(before);
    const second = acceptedIndex(a.proposeConfChange({ type: 'addNonvoter', id: 'y', prevIndex: first }));
    c.stabilize();
    expect(a.status().configurationIndex).toBe(second);
    expect(suffrageIn(a, 'y')).toBe('nonvoter');
  });

  it('removing or demoting the last voter is refused', () => {
    const c = new TestCluster(['a']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    acceptedIndex(a.proposeConfChange({ type: 'addNonvoter', id: 'n' }));
    c.stabilize();
    const before = a.status().lastIndex;
    expect(a.proposeConfChange({ type: 'removeServer', id: 'a' })).toMatchObject({
      accepted: false,
      code: 'INVALID_INPUT',
    });
    expect(a.proposeConfChange({ type: 'demoteVoter', id: 'a' })).toMatchObject({
      accepted: false,
      code: 'INVALID_INPUT',
    });
    expect(a.status().lastIndex).toBe(before);
    expect(membersOf(a)).toEqual(['a:voter', 'n:nonvoter']);
    expect(a.role).toBe('leader');
  });
});

describe('thesis §4.1 configurations take effect when appended', () => {
  it('followers adopt a configuration when they append it, and revert when it is truncated', () => {
    // No check-quorum, so the elections below can be scripted exactly.
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e'], { checkQuorum: false });
    expect(c.elect('a')).toBe('a');
    const original = ['a:voter', 'b:voter', 'c:voter', 'd:voter', 'e:voter'];
    c.partition(['a', 'b'], ['c', 'd', 'e']);
    const configIndex = acceptedIndex(c.core('a').proposeConfChange({ type: 'addNonvoter', id: 'x' }));
    c.stabilize();
    // b appended the change and uses it, although it cannot commit in a minority.
    const b = c.core('b');
    expect(b.status().lastIndex).toBe(configIndex);
    expect(b.status().commitIndex).toBeLessThan(configIndex);
    expect(membersOf(b)).toEqual([...original, 'x:nonvoter']);
    expect(b.status().configurationIndex).toBe(configIndex);
    expect(membersOf(c.core('c'))).toEqual(original);

    // The majority elects c, which overwrites the uncommitted change with entries of its term.
    expect(c.elect('c')).toBe('c');
    c.propose('c', 'c1');
    c.propose('c', 'c2');
    expect(c.core('c').status().commitIndex).toBe(4);
    c.heal();
    c.tick(3);
    for (const id of ['a', 'b']) {
      const core = c.core(id);
      expect(core.leader).toBe('c');
      expect(must(c.node(id).storage.entry(configIndex))).toMatchObject({ term: 2, type: 'noop' });
      expect(c.node(id).storage.entries.some(isConfig)).toBe(false);
      expect(membersOf(core)).toEqual(original);
      expect(core.status().configurationIndex).toBe(0);
      expect(appliedCommands(c.node(id))).toEqual(['c1', 'c2']);
    }
  });

  it('the leader uses a configuration from the moment it appends it', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    a.proposeConfChange({ type: 'addNonvoter', id: 'x' });
    expect(suffrageIn(a, 'x')).toBe('nonvoter');
    expect(a.status().commitIndex).toBeLessThan(a.status().configurationIndex);
    // The very first flush already replicates to the new member.
    const ready = drain(a);
    expect(ofType(sent(ready), 'appendRequest').map((m) => m.to)).toContain('x');
    expect(a.propose(text('y'))).toMatchObject({ accepted: true });
  });
});
