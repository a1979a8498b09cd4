/**
 * Raft paper §5.4 "Safety": the election restriction (§5.4.1), committing entries from previous
 * terms (§5.4.2, Figure 8), Leader Append-Only, and the persistence of term and vote across
 * restarts (Figure 2). In the etcd style, each test focuses on a few sentences of the paper,
 * quoted or cited above it.
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/index.js';
import { TestCluster } from '../support/cluster.js';
import { appendRequest, drain, entries, entry, logOf, newCore, ofType, voteRequest } from './helpers.js';

/** Scripted elections: no pre-vote (each campaign is exactly one term) and no leader lease. */
const scripted = { preVote: false, checkQuorum: false } as const;

/** Campaigns `id` until it leads (each failed campaign costs one term); returns its term. */
function electScripted(c: TestCluster, id: string, maxCampaigns = 3): number {
  for (let i = 0; i < maxCampaigns; i++) {
    c.core(id).campaign();
    c.stabilize();
    if (c.core(id).role === 'leader') return c.core(id).term;
  }
  throw new Error(`${id} did not win an election in ${maxCampaigns} campaigns`);
}

describe('§5.4.1 Election restriction', () => {
  // §5.4.1: "Raft determines which of two logs is more up-to-date by comparing the index and term
  // of the last entries in the logs. If the logs have last entries with different terms, then
  // the log with the later term is more up-to-date. If the logs end with the same term, then
  // whichever log is longer is more up-to-date."
  it('a voter grants only candidates whose log is at least as up to date as its own', () => {
    // Voter log: 1:1 2:2 3:2.
    const voter = newCore('v', ['v', 'a', 'b', 'c', 'd', 'e'], {
      hardState: { term: 2, vote: null, commit: 0 },
      entries: entries(1, [1, 2, 2]),
    });
    const cases: Array<[string, number, number, boolean]> = [
      // candidate, lastLogIndex, lastLogTerm, granted
      ['a', 10, 1, false], // longer but older last term
      ['b', 2, 2, false], // same last term, shorter
      ['c', 3, 2, true], // identical
      ['d', 4, 2, true], // same last term, longer
      ['e', 1, 3, true], // later last term, shorter
    ];
    let term = 2;
    for (const [candidate, lastLogIndex, lastLogTerm, granted] of cases) {
      term++;
      voter.step(voteRequest(candidate, 'v', term, { lastLogIndex, lastLogTerm }));
      const ready = drain(voter);
      expect(ofType(ready.messages, 'voteResponse'), candidate).toEqual([
        expect.objectContaining({ to: candidate, granted, term }),
      ]);
      expect(voter.status().vote).toBe(granted ? candidate : null);
    }
  });

  it('the same restriction applies to pre-votes', () => {
    const voter = newCore('v', ['v', 'a', 'b'], {
      hardState: { term: 2, vote: null, commit: 0 },
      entries: entries(1, [1, 2, 2]),
    });
    voter.step(voteRequest('a', 'v', 3, { preVote: true, lastLogIndex: 2, lastLogTerm: 2 }));
    voter.step(voteRequest('b', 'v', 3, { preVote: true, lastLogIndex: 3, lastLogTerm: 2 }));
    const ready = drain(voter);
    expect(ofType(ready.messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'a', preVote: true, granted: false }),
      expect.objectContaining({ to: 'b', preVote: true, granted: true, term: 3 }),
    ]);
    // A pre-vote changes neither the term nor the vote.
    expect(voter.term).toBe(2);
    expect(voter.status().vote).toBeNull();
    expect(ready.hardState).toBeNull();
  });

  // §5.4.1 (Leader Completeness): "a candidate must contact a majority of the cluster in order to
  // be elected, which means that every committed entry must be present in at least one of those
  // servers."
  it('a server missing a committed entry cannot be elected; every new leader holds it', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e'], scripted);
    expect(c.elect('a')).toBe('a');
    const heal = c.partition(['a', 'b', 'c'], ['d', 'e']);
    c.propose('a', 'committed');
    expect(c.core('a').status().commitIndex).toBe(2);
    heal();
    c.isolate('a');
    // d and e lack entry 2; b and c have it and refuse them.
    c.core('d').campaign();
    c.stabilize();
    expect(c.core('d').role).toBe('candidate');
    c.core('e').campaign();
    c.stabilize();
    expect(c.core('e').role).toBe('candidate');
    expect(c.leader()).toBe('a');
    // b wins (with the votes of c, d and e) and brings d and e up to date.
    electScripted(c, 'b');
    expect(c.leader()).toBe('b');
    for (const id of ['b', 'c', 'd', 'e']) {
      expect(c.node(id).storage.entry(2)).toMatchObject({ index: 2, term: 1, type: 'command' });
    }
  });
});

describe('§5.3/§5.4 Leader Append-Only', () => {
  // Figure 3, Leader Append-Only: "a leader never overwrites or deletes entries in its log; it
  // only appends new entries."
  it('a leader keeps its own log while repairing a divergent follower', () => {
    const c = new TestCluster(['a', 'b', 'c'], scripted);
    expect(c.elect('a')).toBe('a');
    const cutA = c.isolate('a');
    for (let i = 0; i < 5; i++) c.propose('a', `stale-${i}`);
    electScripted(c, 'b');
    for (let i = 0; i < 3; i++) c.propose('b', `fresh-${i}`);
    cutA();
    const before = logOf(c, 'b');
    // b repairs a: a's five stale entries are rejected, b's own log must not move.
    c.tick(3);
    expect(c.core('b').role).toBe('leader');
    const after = logOf(c, 'b');
    expect(after.slice(0, before.length)).toEqual(before);
    expect(logOf(c, 'a')).toEqual(after);
  });

  it("a leader ignores a deposed leader's AppendEntries instead of taking its entries", () => {
    const c = new TestCluster(['a', 'b', 'c'], scripted);
    expect(c.elect('a')).toBe('a');
    c.isolate('a');
    electScripted(c, 'b');
    c.propose('b', 'x');
    const before = logOf(c, 'b');
    // The old leader, still in term 1, tries to overwrite index 2 and append index 3.
    c.heal();
    const mark = c.delivered.length;
    c.send(appendRequest('a', 'b', 1, { prevIndex: 1, prevTerm: 1, entries: [entry(2, 1), entry(3, 1)] }));
    expect(c.core('b').role).toBe('leader');
    expect(logOf(c, 'b')).toEqual(before);
    const answer = ofType(c.delivered.slice(mark), 'appendResponse').find(
      (m) => m.from === 'b' && m.to === 'a',
    );
    expect(answer).toMatchObject({ success: false, term: c.core('b').term });
    // ...and the old leader learns of the new term from the answer and steps down.
    expect(c.core('a').role).toBe('follower');
    expect(c.core('a').term).toBe(c.core('b').term);
  });

  it('a leader ignores rejections and votes that would need it to change its log', () => {
    const c = new TestCluster(['a', 'b', 'c'], scripted);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const before = logOf(c, 'a');
    c.send({
      type: 'appendResponse',
      from: 'b',
      to: 'a',
      term: 1,
      success: false,
      index: 2,
      hintIndex: 0,
      hintTerm: 0,
    });
    c.send(voteRequest('c', 'a', 1, { lastLogIndex: 9, lastLogTerm: 1 }));
    expect(c.core('a').role).toBe('leader');
    expect(logOf(c, 'a')).toEqual(before);
  });
});

/**
 * Raft paper Figure 8, "A time sequence showing why a leader cannot determine commitment using
 * log entries from older terms", replayed with five servers S1..S5. Entries are written
 * index:term.
 *
 * Our leaders append a no-op at the start of their term, so a new leader's first entry of a term
 * is that no-op instead of a client command. With that, the indexes and terms of the figure are
 * reproduced exactly:
 * - before (a): S2 leads term 1 and its no-op 1:1 reaches everyone (the figure's index 1).
 * - (a) S1 is elected for term 2; its no-op 2:2 (the figure's term-2 entry at index 2) reaches
 *   S2 only.
 * - (b) S1 crashes; S5 is elected for term 3 with the votes of S3, S4 and itself (S2's log is
 *   more up to date) and appends a different entry at index 2 (its no-op 2:3) that reaches nobody.
 * - (c) S5 crashes; S1 restarts, is elected for term 4 and continues replication: 2:2 reaches S3,
 *   so 2:2 is on S1, S2 and S3, a majority, and S1 knows it. One difference: in the figure the
 *   term-4 entry 3:4 is only on S1; our S1's no-op 3:4 is in its very first AppendEntries to S2
 *   (the one that tells S1 that S2 holds 2:2), so S2 stores 3:4 too. 3:4 is still on a minority
 *   only, and S5 can still win without S2's vote (S3, S4 and itself), so the figure's argument
 *   is unchanged. S3 never receives 3:4 and S4 receives nothing.
 *
 * Elections are scripted (no pre-vote, no lease); faults are delivery filters.
 */
function figure8(): TestCluster {
  const c = new TestCluster(['s1', 's2', 's3', 's4', 's5'], { ...scripted, maxEntriesPerMessage: 1 });

  // Before (a): entry 1:1 everywhere, committed.
  expect(electScripted(c, 's2')).toBe(1);
  for (const id of ['s1', 's2', 's3', 's4', 's5']) expect(logOf(c, id)).toEqual(['1:1']);

  // (a) S1 is elected for term 2; its term-2 entry at index 2 reaches S2 only.
  const onlyToS2 = c.filter((m) => !(m.type === 'appendRequest' && m.from === 's1' && m.to !== 's2'));
  expect(electScripted(c, 's1', 1)).toBe(2);
  onlyToS2();
  expect(logOf(c, 's1')).toEqual(['1:1', '2:2']);
  expect(logOf(c, 's2')).toEqual(['1:1', '2:2']);
  for (const id of ['s3', 's4', 's5']) expect(logOf(c, id)).toEqual(['1:1']);
  expect(c.core('s1').status().commitIndex).toBe(1);

  // (b) S1 crashes. S5 is elected for term 3 with votes from S3, S4 and S5 (S2 refuses: its log
  // is more up to date) and accepts a different entry at index 2, which reaches nobody.
  const s1Down = c.isolate('s1');
  const s5Mute = c.filter((m) => !(m.type === 'appendRequest' && m.from === 's5'));
  expect(electScripted(c, 's5', 1)).toBe(3);
  const votesForS5 = ofType(c.delivered, 'voteResponse').filter((m) => m.to === 's5' && m.term === 3);
  expect(
    votesForS5
      .filter((m) => m.granted)
      .map((m) => m.from)
      .sort(),
  ).toEqual(['s3', 's4']);
  expect(votesForS5.find((m) => m.from === 's2')).toMatchObject({ granted: false });
  expect(logOf(c, 's5')).toEqual(['1:1', '2:3']);
  s5Mute();

  // (c) S5 crashes; S1 restarts and is elected for term 4 (its first campaign, in term 3, fails:
  // S3 and S4 already voted for S5 in term 3). It continues replication: 2:2 reaches S3, while no
  // AppendEntries that would store 3:4 on S3 gets through, and S4 gets nothing.
  c.isolate('s5');
  s1Down();
  c.node('s1').restart();
  const wouldStoreTerm4 = (m: Message) =>
    m.type === 'appendRequest' &&
    m.entries.some((e) => e.term === 4) &&
    c.node(m.to).storage.entry(m.prevIndex)?.term === m.prevTerm;
  c.filter(
    (m) =>
      !(
        m.type === 'appendRequest' &&
        m.from === 's1' &&
        (m.to === 's4' || (m.to === 's3' && wouldStoreTerm4(m)))
      ),
  );
  expect(electScripted(c, 's1')).toBe(4);
  expect(logOf(c, 's1')).toEqual(['1:1', '2:2', '3:4']);
  expect(logOf(c, 's2')).toEqual(['1:1', '2:2', '3:4']);
  expect(logOf(c, 's3')).toEqual(['1:1', '2:2']);
  expect(logOf(c, 's4')).toEqual(['1:1']);
  expect(logOf(c, 's5')).toEqual(['1:1', '2:3']);
  return c;
}

describe('§5.4.2 Committing entries from previous terms (Figure 8)', () => {
  // §5.4.2: "a leader cannot immediately conclude that an entry from a previous term is committed
  // once it is stored on a majority of servers."
  it('(c) an entry of an earlier term stored on a majority is not committed by counting replicas', () => {
    const c = figure8();
    const s1 = c.core('s1');
    expect(s1.role).toBe('leader');
    expect(s1.term).toBe(4);
    // 2:2 is on S1, S2 and S3: a majority of five, and S1 has heard so from S2 and S3. Still not
    // committed.
    expect(
      ofType(c.delivered, 'appendResponse').filter((m) => m.to === 's1' && m.term === 4 && m.success),
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ from: 's2', index: 3 }),
        expect.objectContaining({ from: 's3', index: 2 }),
      ]),
    );
    expect(s1.status().commitIndex).toBe(1);
    for (const id of ['s1', 's2', 's3', 's4', 's5']) {
      expect(c.core(id).status().commitIndex).toBe(1);
      expect(c.node(id).applied.map((e) => `${e.index}:${e.term}`)).not.toContain('2:2');
    }
    // However long S1 keeps replicating like this, 2:2 stays uncommitted.
    c.tick(20);
    expect(s1.role).toBe('leader');
    expect(s1.status().commitIndex).toBe(1);
  });

  // Figure 8 (d): "If S1 crashes as in (d), S5 could be elected leader (with votes from S2, S3,
  // and S4) and overwrite the entry with its own entry from term 3." That is why (c) must not
  // commit 2:2. (Here S2 holds 3:4 and refuses, but S3, S4 and S5 are a majority.)
  it('(d) S5 can still be elected and overwrite the uncommitted term-2 entry', () => {
    const c = figure8();
    // S1 crashes; S5 restarts (it crashed in (c)) and comes back.
    c.heal();
    c.isolate('s1');
    c.node('s5').restart();
    // S5's first campaign (term 4) fails: S2, S3 and S4 voted for S1 in term 4. Term 5 succeeds.
    expect(electScripted(c, 's5')).toBe(5);
    const votes = ofType(c.delivered, 'voteResponse').filter((m) => m.to === 's5' && m.term === 5);
    expect(
      votes
        .filter((m) => m.granted)
        .map((m) => m.from)
        .sort(),
    ).toEqual(['s3', 's4']);
    for (const id of ['s2', 's3', 's4', 's5']) {
      expect(logOf(c, id)).toEqual(['1:1', '2:3', '3:5']);
      expect(c.core(id).status().commitIndex).toBe(3);
    }
    // Nobody ever applied the overwritten 2:2.
    for (const id of ['s1', 's2', 's3', 's4', 's5']) {
      expect(c.node(id).applied.map((e) => `${e.index}:${e.term}`)).not.toContain('2:2');
    }
  });

  // Figure 8 (e): "if S1 replicates an entry from its current term on a majority of the servers
  // before crashing, as in (e), then this entry is committed (S5 cannot win an election). At this
  // point all preceding entries in the log are committed as well."
  it('(e) once an entry of the current term is on a majority, it commits the earlier entry too', () => {
    const c = figure8();
    c.heal();
    c.isolate('s5');
    c.filter((m) => !(m.type === 'appendRequest' && m.from === 's1' && m.to === 's4'));
    // 3:4 now reaches S3 too (on the next heartbeat round): S1, S2 and S3 are a majority.
    c.tick(2);
    const s1 = c.core('s1');
    expect(logOf(c, 's2')).toEqual(['1:1', '2:2', '3:4']);
    expect(logOf(c, 's3')).toEqual(['1:1', '2:2', '3:4']);
    expect(s1.status().commitIndex).toBe(3);
    // (S1 restarted in (c), so it applied 1:1 before and after the restart.)
    const s1Applied = c.node('s1').applied.map((e) => `${e.index}:${e.term}`);
    expect(s1Applied).toContain('2:2');
    expect(s1Applied.at(-1)).toBe('3:4');
    for (const id of ['s2', 's3']) {
      expect(c.core(id).status().commitIndex).toBe(3);
      expect(c.node(id).applied.map((e) => `${e.index}:${e.term}`)).toEqual(['1:1', '2:2', '3:4']);
    }

    // S1 crashes and S5 restarts: S5 cannot win any more, S2 and S3 refuse it.
    c.heal();
    c.isolate('s1');
    c.node('s5').restart();
    for (let i = 0; i < 4; i++) {
      c.core('s5').campaign();
      c.stabilize();
      expect(c.core('s5').role).not.toBe('leader');
    }
    // A server holding the committed entries can, and keeps them.
    electScripted(c, 's2');
    for (const id of ['s2', 's3', 's4', 's5']) {
      expect(logOf(c, id).slice(0, 3)).toEqual(['1:1', '2:2', '3:4']);
    }
  });
});

// Figure 2: currentTerm and votedFor are "Persistent state on all servers: (Updated on stable
// storage before responding to RPCs)". §5.2: "Each server will vote for at most one candidate in
// a given term".
describe('Figure 2: term and vote survive restarts', () => {
  it('a restarted server keeps its term and vote and does not vote twice in a term', () => {
    const c = new TestCluster(['a', 'b', 'c'], scripted);
    // b's vote reaches nobody: a does not become leader.
    const dropVotes = c.filter((m) => !(m.type === 'voteResponse' && m.from === 'b'));
    const cutC = c.isolate('c');
    c.core('a').campaign();
    c.stabilize();
    expect(c.core('a').role).toBe('candidate');
    expect(c.core('b').status().vote).toBe('a');
    expect(c.node('b').storage.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });

    c.node('b').restart();
    const b = c.core('b');
    expect(b.role).toBe('follower');
    expect(b.term).toBe(1);
    expect(b.status().vote).toBe('a');

    dropVotes();
    cutC();
    c.isolate('a');
    // c campaigns in term 1 as well: b already voted in term 1 and must refuse.
    const mark = c.delivered.length;
    c.core('c').campaign();
    c.stabilize();
    expect(c.core('c').term).toBe(1);
    const answer = ofType(c.delivered.slice(mark), 'voteResponse').find((m) => m.from === 'b');
    expect(answer).toMatchObject({ to: 'c', term: 1, granted: false });
    expect(c.core('c').role).not.toBe('leader');
    expect(c.core('b').status().vote).toBe('a');
  });

  it('a restarted candidate keeps its vote for itself', () => {
    const c = new TestCluster(['a', 'b', 'c'], scripted);
    const cutA = c.isolate('a');
    c.core('a').campaign();
    c.stabilize();
    c.node('a').restart();
    expect(c.core('a').term).toBe(1);
    expect(c.core('a').status().vote).toBe('a');
    cutA();
    c.send(voteRequest('b', 'a', 1));
    const answer = ofType(c.delivered, 'voteResponse').find((m) => m.from === 'a' && m.to === 'b');
    expect(answer).toMatchObject({ granted: false, term: 1 });
  });

  it('a restarted server still answers the candidate it voted for', () => {
    const core = newCore('b', ['a', 'b', 'c'], { hardState: { term: 4, vote: 'a', commit: 0 } });
    core.step(voteRequest('c', 'b', 4));
    core.step(voteRequest('a', 'b', 4));
    expect(ofType(drain(core).messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'c', granted: false }),
      expect.objectContaining({ to: 'a', granted: true }),
    ]);
  });

  it('a restart loses nothing that was persisted: log, term and commit', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    c.propose('a', 'y');
    const before = logOf(c, 'b');
    const status = c.core('b').status();
    c.node('b').restart();
    const after = c.core('b').status();
    expect(logOf(c, 'b')).toEqual(before);
    expect(after.term).toBe(status.term);
    expect(after.commitIndex).toBe(status.commitIndex);
    expect(after.lastIndex).toBe(status.lastIndex);
    expect(after.lastTerm).toBe(status.lastTerm);
    // It rejoins as a follower and keeps replicating.
    c.propose('a', 'z');
    expect(c.core('b').status().commitIndex).toBe(4);
  });

  it('unpersisted state is lost on a restart, and so the vote was never promised', () => {
    const core = newCore('b', ['a', 'b', 'c']);
    core.step(voteRequest('a', 'b', 1));
    // The vote response is only in the Ready that also persists the vote; a crash before
    // persisting it loses both, so no candidate can have counted it.
    const ready = core.ready();
    expect(ready.hardState).toMatchObject({ vote: 'a' });
    expect(ofType(ready.messages, 'voteResponse')).toHaveLength(1);
    const restarted = newCore('b', ['a', 'b', 'c']);
    expect(restarted.status().vote).toBeNull();
    restarted.step(voteRequest('c', 'b', 1));
    expect(ofType(drain(restarted).messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'c', granted: true }),
    ]);
  });
});
