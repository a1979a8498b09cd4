/**
 * Raft paper §5.3 "Log replication", with the flow-control and persistence refinements the core
 * adds (etcd's probe/replicate states, message size limits, and the Ready contract). In the etcd
 * style, each test focuses on a few sentences of the paper, quoted or cited above it.
 */
import { describe, expect, it } from 'vitest';
import type { Entry, Message } from '../../src/core/index.js';
import { entrySize } from '../../src/core/log.js';
import { appliedCommands, TestCluster } from '../support/cluster.js';
import {
  appendRequest,
  deliveredSince,
  drain,
  entries,
  entry,
  heartbeatRequest,
  logOf,
  must,
  newCore,
  ofType,
  sent,
  text,
  voteRequest,
} from './helpers.js';

/** Steps every message in `messages` addressed to `core`. */
function deliverTo(core: { id: string; step(m: Message): void }, messages: readonly Message[]): void {
  for (const m of messages) if (m.to === core.id) core.step(m);
}

describe('§5.3 Log replication', () => {
  // §5.4.2 / §8: "each leader commit a blank no-op entry into the log at the start of its term."
  it('a new leader appends a no-op entry of its term and commits it', () => {
    // Without check-quorum there is no leader lease, so b can take over from a below.
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    expect(c.elect('a')).toBe('a');
    for (const id of ['a', 'b', 'c']) {
      const first = must(c.node(id).storage.entry(1), 'entry 1');
      expect(first).toMatchObject({ index: 1, term: 1, type: 'noop' });
      expect(first.data.byteLength).toBe(0);
      expect(c.core(id).status().commitIndex).toBe(1);
    }
    expect(c.elect('b')).toBe('b');
    expect(must(c.node('c').storage.entry(2))).toMatchObject({ index: 2, term: 2, type: 'noop' });
  });

  // §5.1: "The leader handles all client requests (if a client contacts a follower, the follower
  // redirects it to the leader)."
  it('a follower refuses proposals and names the leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.core('b').propose(text('early'))).toMatchObject({
      accepted: false,
      code: 'NOT_LEADER',
      leader: null,
    });
    expect(c.elect('a')).toBe('a');
    expect(c.propose('b', 'x')).toMatchObject({ accepted: false, code: 'NOT_LEADER', leader: 'a' });
    expect(c.propose('c', 'x')).toMatchObject({ accepted: false, code: 'NOT_LEADER', leader: 'a' });
    expect(c.core('b').status().lastIndex).toBe(1);
    const accepted = c.propose('a', 'x');
    expect(accepted).toEqual({ accepted: true, index: 2, term: 1 });
  });

  it('candidates and pre-candidates refuse proposals too', () => {
    const pre = newCore('a', ['a', 'b', 'c']);
    pre.campaign();
    expect(pre.propose(text('x'))).toMatchObject({ accepted: false, code: 'NOT_LEADER', leader: null });
    const candidate = newCore('a', ['a', 'b', 'c'], { options: { preVote: false } });
    candidate.campaign();
    expect(candidate.propose(text('x'))).toMatchObject({
      accepted: false,
      code: 'NOT_LEADER',
      leader: null,
    });
  });

  // §5.3: "The leader appends the command to its log as a new entry, then issues AppendEntries
  // RPCs in parallel to each of the other servers to replicate the entry. [...] A log entry is
  // committed once the leader that created the entry has replicated it on a majority of the
  // servers."
  it('the leader commits an entry once a majority has persisted it, not before', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    const result = a.propose(text('x'));
    expect(result).toMatchObject({ accepted: true, index: 2, term: 1 });
    const aReady = drain(a);
    expect(aReady.entries.map((e) => e.index)).toEqual([2]);
    expect(a.status().commitIndex).toBe(1);

    const appends = ofType(sent(aReady), 'appendRequest');
    expect(appends.map((m) => m.to).sort()).toEqual(['b', 'c', 'd', 'e']);

    // b receives and persists: a and b are 2 of 5, not a majority.
    const b = c.core('b');
    deliverTo(b, appends);
    const bReady = drain(b);
    expect(bReady.entries.map((e) => e.index)).toEqual([2]);
    deliverTo(a, bReady.messages);
    expect(a.status().commitIndex).toBe(1);

    // c has received the entry but has not persisted it yet: its answer is not out, so no commit.
    const cc = c.core('c');
    deliverTo(cc, appends);
    expect(a.status().commitIndex).toBe(1);
    const cReady = drain(cc);
    deliverTo(a, cReady.messages);
    // a, b and c: a majority of five.
    expect(a.status().commitIndex).toBe(2);
  });

  // §5.3: "Once the follower learns that a log entry is committed, it applies the entry to its
  // local state machine (in log order)." "The leader keeps track of the highest index it knows
  // to be committed, and it includes that index in future AppendEntries RPCs (including
  // heartbeats) so that the other servers eventually find out."
  it('followers learn the commit index from the next AppendEntries and apply in log order', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    for (const cmd of ['x', 'y', 'z']) c.propose('a', cmd);
    for (const id of ['a', 'b', 'c']) {
      expect(c.core(id).status().commitIndex).toBe(4);
      expect(appliedCommands(c.node(id))).toEqual(['x', 'y', 'z']);
      expect(c.node(id).applied.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    }
  });

  it('followers learn the commit index from heartbeats when no AppendEntries carries it', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    // Drop AppendEntries that carry no entries: the commit-only notifications.
    const restore = c.filter((m) => !(m.type === 'appendRequest' && m.entries.length === 0));
    c.propose('a', 'x');
    expect(c.core('a').status().commitIndex).toBe(2);
    expect(c.core('b').status().commitIndex).toBe(1);
    expect(appliedCommands(c.node('b'))).toEqual([]);
    restore();
    c.tick(1);
    const heartbeats = ofType(c.delivered, 'heartbeatRequest').filter((m) => m.to === 'b');
    expect(heartbeats.at(-1)?.commit).toBe(2);
    expect(c.core('b').status().commitIndex).toBe(2);
    expect(appliedCommands(c.node('b'))).toEqual(['x']);
  });

  it('a heartbeat commits only what the follower has matched with the leader in its term', () => {
    // b holds entries 1-3; entry 3 is from a term-1 leader that never committed it, and the term-2
    // leader's log may differ there. Heartbeats carry the leader's whole commit index (the same
    // for every follower, so one multicast carries it): b alone knows how far its log matches.
    const core = newCore('b', ['a', 'b', 'c'], {
      hardState: { term: 1, vote: null, commit: 0 },
      entries: entries(1, [1, 1, 1]),
    });
    core.step(heartbeatRequest('a', 'b', 2, 10));
    expect(core.status().commitIndex).toBe(0);
    core.step(appendRequest('a', 'b', 2, { prevIndex: 2, prevTerm: 1, entries: [], commit: 0 }));
    core.step(heartbeatRequest('a', 'b', 2, 10));
    expect(core.status().commitIndex).toBe(2);
    core.step(appendRequest('a', 'b', 2, { prevIndex: 2, prevTerm: 1, entries: [entry(3, 2)], commit: 0 }));
    core.step(heartbeatRequest('a', 'b', 2, 10));
    expect(core.status().commitIndex).toBe(3);
    expect(core.status().lastIndex).toBe(3);
  });

  it('what a follower matched with one leader does not let the next leader commit by heartbeat', () => {
    const core = newCore('b', ['a', 'b', 'c'], { hardState: { term: 1, vote: null, commit: 0 } });
    core.step(
      appendRequest('a', 'b', 1, { prevIndex: 0, prevTerm: 0, entries: entries(1, [1, 1]), commit: 0 }),
    );
    core.step(heartbeatRequest('c', 'b', 2, 2));
    expect(core.status().commitIndex).toBe(0);
  });

  // §5.3: "When sending an AppendEntries RPC, the leader includes the index and term of the entry
  // in its log that immediately precedes the new entries. If the follower does not find an entry
  // in its log with the same index and term, then it refuses the new entries." The rejection
  // carries a hint (the "fast backtracking" optimisation at the end of §5.3).
  describe('the AppendEntries consistency check', () => {
    // Follower log: index 1..5 with terms 1 1 2 2 2.
    const follower = () =>
      newCore('b', ['a', 'b', 'c'], {
        hardState: { term: 3, vote: null, commit: 1 },
        entries: entries(1, [1, 1, 2, 2, 2]),
      });

    it('rejects a prevIndex beyond the end of the log, hinting at its last entry', () => {
      const core = follower();
      core.step(appendRequest('a', 'b', 3, { prevIndex: 8, prevTerm: 3, entries: [entry(9, 3)], commit: 1 }));
      const answers = ofType(drain(core).messages, 'appendResponse');
      expect(answers).toEqual([
        expect.objectContaining({ to: 'a', success: false, index: 8, hintIndex: 5, hintTerm: 2 }),
      ]);
      expect(core.status().lastIndex).toBe(5);
    });

    it('rejects a prevTerm mismatch, hinting at the last entry whose term is not above prevTerm', () => {
      const core = follower();
      core.step(appendRequest('a', 'b', 3, { prevIndex: 5, prevTerm: 3, entries: [entry(6, 3)], commit: 1 }));
      let answers = ofType(drain(core).messages, 'appendResponse');
      expect(answers).toEqual([
        expect.objectContaining({ success: false, index: 5, hintIndex: 5, hintTerm: 2 }),
      ]);
      core.step(appendRequest('a', 'b', 3, { prevIndex: 4, prevTerm: 1, entries: [entry(5, 3)], commit: 1 }));
      answers = ofType(drain(core).messages, 'appendResponse');
      expect(answers).toEqual([
        expect.objectContaining({ success: false, index: 4, hintIndex: 2, hintTerm: 1 }),
      ]);
      expect(core.status().lastIndex).toBe(5);
      expect(core.status().lastTerm).toBe(2);
    });

    it('accepts a matching prevIndex/prevTerm, replacing the conflicting suffix', () => {
      const core = follower();
      core.step(
        appendRequest('a', 'b', 3, { prevIndex: 2, prevTerm: 1, entries: entries(3, [3, 3]), commit: 3 }),
      );
      const ready = drain(core);
      expect(ofType(ready.messages, 'appendResponse')).toEqual([
        expect.objectContaining({ success: true, index: 4 }),
      ]);
      expect(ready.entries.map((e) => `${e.index}:${e.term}`)).toEqual(['3:3', '4:3']);
      expect(core.status().lastIndex).toBe(4);
      expect(core.status().commitIndex).toBe(3);
    });

    it('answers a request below its commit index with the commit index', () => {
      const core = newCore('b', ['a', 'b', 'c'], {
        hardState: { term: 3, vote: null, commit: 4 },
        entries: entries(1, [1, 1, 2, 2, 2]),
      });
      core.step(appendRequest('a', 'b', 3, { prevIndex: 1, prevTerm: 1, entries: [entry(2, 1)] }));
      expect(ofType(drain(core).messages, 'appendResponse')).toEqual([
        expect.objectContaining({ success: true, index: 4 }),
      ]);
      expect(core.status().lastIndex).toBe(5);
    });

    it('commits no further than the entries the request vouched for', () => {
      const core = follower();
      core.step(appendRequest('a', 'b', 3, { prevIndex: 2, prevTerm: 1, entries: [], commit: 5 }));
      drain(core);
      // Entries 3..5 may still conflict with the leader: only index 2 is known to match.
      expect(core.status().commitIndex).toBe(2);
    });
  });

  // §5.3: "the leader must find the latest log entry where the two logs agree, delete any entries
  // in the follower's log after that point, and send the follower all of the leader's entries
  // after that point. [...] the protocol can be optimized to reduce the number of rejected
  // AppendEntries RPCs [...] one AppendEntries RPC will be required for each term with
  // conflicting entries, rather than one RPC per entry."
  it('the leader repairs a follower with a long conflicting suffix in a few round trips', () => {
    // Without check-quorum nobody holds a lease, so the elections below can be scripted exactly.
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    expect(c.elect('a')).toBe('a');
    // a, cut off, keeps accepting 30 proposals in term 1 that never commit.
    const cutA = c.isolate('a');
    for (let i = 0; i < 30; i++) c.propose('a', `lost-${i}`);
    // b and c move on in term 2 and commit 30 entries of their own at the same indexes.
    expect(c.elect('b')).toBe('b');
    expect(c.core('b').term).toBe(2);
    for (let i = 0; i < 30; i++) c.propose('b', `kept-${i}`);
    expect(c.core('b').status().commitIndex).toBe(32);
    const conflicting = logOf(c, 'a').filter((e, i) => e !== logOf(c, 'c')[i]);
    expect(conflicting).toHaveLength(30);

    // Now b is lost and a is back: c (more up to date) wins a's vote and must repair a's log.
    cutA();
    c.isolate('b');
    const mark = c.delivered.length;
    expect(c.elect('c')).toBe('c');
    const leader = c.core('c');
    expect(leader.term).toBe(3);

    const toA = ofType(deliveredSince(c, mark), 'appendRequest').filter((m) => m.to === 'a');
    const rejections = ofType(deliveredSince(c, mark), 'appendResponse').filter(
      (m) => m.from === 'a' && !m.success,
    );
    expect(logOf(c, 'a')).toEqual(logOf(c, 'c'));
    expect(c.core('a').status().commitIndex).toBe(leader.status().commitIndex);
    expect(leader.status().commitIndex).toBe(33);
    // Far fewer than one round trip per conflicting entry.
    expect(rejections.length).toBeLessThanOrEqual(2);
    expect(toA.length).toBeLessThanOrEqual(4);
    expect(appliedCommands(c.node('a'))).not.toContain('lost-0');
    expect(appliedCommands(c.node('a'))).toContain('kept-29');
  });

  // Flow control: in the replicate state the leader streams at most maxInflight unacknowledged
  // AppendEntries to a follower.
  it('a follower that never answers receives at most maxInflight AppendEntries with entries', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxInflight: 2, maxEntriesPerMessage: 1 });
    expect(c.elect('a')).toBe('a');
    const mute = c.filter((m) => m.from !== 'c');
    const mark = c.delivered.length;
    for (let i = 0; i < 10; i++) c.propose('a', `e${i}`);
    const withEntries = (to: string) =>
      ofType(deliveredSince(c, mark), 'appendRequest').filter((m) => m.to === to && m.entries.length > 0);
    expect(withEntries('c')).toHaveLength(2);
    for (const m of withEntries('c')) expect(m.entries).toHaveLength(1);
    // b answers, so it gets everything, one entry per message.
    expect(withEntries('b')).toHaveLength(10);
    expect(c.core('b').status().lastIndex).toBe(11);
    expect(c.core('a').status().commitIndex).toBe(11);

    // Ticking (heartbeats) while c stays mute does not open the window.
    c.tick(5);
    expect(withEntries('c')).toHaveLength(2);

    // Once c answers again it catches up.
    mute();
    c.tick(5);
    expect(c.core('c').status().lastIndex).toBe(11);
    expect(c.core('c').status().commitIndex).toBe(11);
    expect(appliedCommands(c.node('c'))).toHaveLength(10);
  });

  it('maxEntriesPerMessage limits the entries of each AppendEntries', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxEntriesPerMessage: 3 });
    expect(c.elect('a')).toBe('a');
    const mark = c.delivered.length;
    for (let i = 0; i < 8; i++) c.core('a').propose(text(`e${i}`));
    c.stabilize();
    const sizes = ofType(deliveredSince(c, mark), 'appendRequest')
      .filter((m) => m.to === 'b' && m.entries.length > 0)
      .map((m) => m.entries.length);
    expect(sizes).toEqual([3, 3, 2]);
    expect(c.core('b').status().lastIndex).toBe(9);
  });

  it('maxBytesPerMessage limits the bytes of each AppendEntries, but one entry always goes', () => {
    const c = new TestCluster(['a', 'b', 'c'], { maxBytesPerMessage: 100 });
    expect(c.elect('a')).toBe('a');
    const mark = c.delivered.length;
    // 20 data bytes: 44 bytes per entry, so two fit in 100 bytes and three do not.
    for (let i = 0; i < 6; i++) c.core('a').propose(text(`${i}`.padEnd(20, '.')));
    c.core('a').propose(text('x'.repeat(500)));
    c.stabilize();
    const batches = ofType(deliveredSince(c, mark), 'appendRequest')
      .filter((m) => m.to === 'b' && m.entries.length > 0)
      .map((m) => m.entries);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2, 1]);
    const bytes = (list: readonly Entry[]) => list.reduce((n, e) => n + entrySize(e), 0);
    for (const batch of batches.slice(0, 3)) expect(bytes(batch)).toBeLessThanOrEqual(100);
    expect(bytes(must(batches[3]))).toBeGreaterThan(100);
    expect(c.core('b').status().lastIndex).toBe(8);
    expect(c.core('b').status().commitIndex).toBe(8);
  });

  // The leader's own log counts towards a majority only for what it has persisted: an entry it
  // has merely appended in memory would be lost in a crash.
  describe("the leader's own entries count towards commitment only once persisted", () => {
    it('in a single-server cluster', () => {
      const core = newCore('a', ['a']);
      core.campaign();
      expect(core.role).toBe('leader');
      expect(core.status().commitIndex).toBe(0);
      let ready = core.ready();
      expect(ready.entries.map((e) => e.type)).toEqual(['noop']);
      expect(ready.committedEntries).toEqual([]);
      expect(core.status().commitIndex).toBe(0);
      core.advance(ready);
      expect(core.status().commitIndex).toBe(1);

      core.propose(text('x'));
      expect(core.status().commitIndex).toBe(1);
      ready = core.ready();
      expect(ready.entries.map((e) => e.index)).toEqual([2]);
      // The Ready that carries the entry cannot already report it committed.
      expect(ready.hardState?.commit ?? 1).toBe(1);
      expect(ready.committedEntries.map((e) => e.index)).toEqual([1]);
      expect(core.status().commitIndex).toBe(1);
      core.advance(ready);
      expect(core.status().commitIndex).toBe(2);
      ready = drain(core);
      expect(ready.hardState?.commit).toBe(2);
      expect(ready.committedEntries.map((e) => e.index)).toEqual([2]);
    });

    it('in a three-server cluster', () => {
      const c = new TestCluster(['a', 'b', 'c']);
      expect(c.elect('a')).toBe('a');
      const a = c.core('a');
      a.propose(text('x'));
      expect(a.status().commitIndex).toBe(1);
      expect(a.status().persistedIndex).toBe(1);
      const ready = a.ready();
      expect(ready.entries.map((e) => e.index)).toEqual([2]);
      expect(a.status().commitIndex).toBe(1);
      a.advance(ready);
      expect(a.status().persistedIndex).toBe(2);
      expect(a.status().commitIndex).toBe(1);
      const b = c.core('b');
      deliverTo(b, sent(ready));
      deliverTo(a, drain(b).messages);
      expect(a.status().commitIndex).toBe(2);
    });
  });

  // Raft Figure 2: "Persistent state on all servers: (Updated on stable storage before responding
  // to RPCs)". The core expresses this by putting an answer in the same Ready as the state it
  // depends on; the runtime persists a Ready before sending its messages.
  describe('answers travel in the same Ready as the state they promise', () => {
    it('a granted vote and the hard state recording it', () => {
      const core = newCore('b', ['a', 'b', 'c']);
      core.step(voteRequest('a', 'b', 1));
      const ready = core.ready();
      expect(ready.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
      expect(ofType(ready.messages, 'voteResponse')).toEqual([
        expect.objectContaining({ to: 'a', granted: true, term: 1 }),
      ]);
      core.advance(ready);
      expect(core.hasReady()).toBe(false);
    });

    it("a candidate's vote for itself and its vote requests", () => {
      const core = newCore('a', ['a', 'b', 'c'], { options: { preVote: false } });
      core.campaign();
      const ready = core.ready();
      expect(ready.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
      expect(ofType(ready.messages, 'voteRequest')).toHaveLength(2);
      core.advance(ready);
    });

    it('a successful append answer and the entries it acknowledges', () => {
      const core = newCore('b', ['a', 'b', 'c']);
      core.step(appendRequest('a', 'b', 1, { entries: entries(1, [1, 1]), commit: 0 }));
      const ready = core.ready();
      expect(ready.hardState).toMatchObject({ term: 1 });
      expect(ready.entries.map((e) => e.index)).toEqual([1, 2]);
      expect(ofType(ready.messages, 'appendResponse')).toEqual([
        expect.objectContaining({ success: true, index: 2 }),
      ]);
      core.advance(ready);
      expect(core.status().persistedIndex).toBe(2);
    });

    // The exception (thesis §10.2.1): a leader's AppendEntries promise nothing about its own
    // storage, so they are early messages, sent while the leader writes the entries they carry.
    it("the leader's AppendEntries, early, and the entries it sends", () => {
      const c = new TestCluster(['a', 'b', 'c']);
      expect(c.elect('a')).toBe('a');
      const a = c.core('a');
      a.propose(text('x'));
      const ready = a.ready();
      const early = ofType(ready.earlyMessages, 'appendRequest').flatMap((m) =>
        m.entries.map((e) => e.index),
      );
      expect(early).toEqual([2, 2]);
      expect(ofType(ready.messages, 'appendRequest')).toEqual([]);
      expect(ready.entries.map((e) => e.index)).toEqual([2]);
      a.advance(ready);
    });

    it('the core accepts no input between ready() and advance()', () => {
      const core = newCore('b', ['a', 'b', 'c']);
      core.step(voteRequest('a', 'b', 1));
      const ready = core.ready();
      expect(() => core.step(voteRequest('c', 'b', 2))).toThrow();
      expect(() => core.tick()).toThrow();
      expect(() => core.propose(text('x'))).toThrow();
      expect(() => core.ready()).toThrow();
      expect(core.hasReady()).toBe(false);
      core.advance(ready);
      expect(() => core.advance(ready)).toThrow();
    });
  });
});
