/**
 * Design §7 "Peer input never stops a member": a message that breaks a Raft rule is dropped and
 * counted by reason; it never throws out of `step()` and never changes the core's state. Each
 * case here is an attack from issue 13 (or found auditing `step()`), expressed on a bare core.
 */
import { describe, expect, it } from 'vitest';
import type { Message, PeerDropReason, RaftCore, SnapshotRequest } from '../../src/core/index.js';
import { TestCluster } from '../support/cluster.js';
import { appendRequest, drain, entry, heartbeatRequest, newCore, sent } from './helpers.js';

const encoder = new TextEncoder();

/** A three-server cluster led by a at term 2 (elected through pre-vote), with one command committed. */
function ledCluster(): { c: TestCluster; a: RaftCore; b: RaftCore } {
  const c = new TestCluster(['a', 'b', 'c']);
  expect(c.elect('a')).toBe('a');
  c.propose('a', 'x');
  const a = c.core('a');
  const b = c.core('b');
  expect(a.status().commitIndex).toBe(b.status().lastIndex);
  return { c, a, b };
}

/** Everything in the status that a dropped message must leave alone. */
function stateOf(core: RaftCore): unknown {
  const { droppedMessages: _d, ...rest } = core.status() as ReturnType<RaftCore['status']> & {
    droppedMessages?: unknown;
  };
  return rest;
}

/** Steps `m` into `core`; asserts it was dropped for `reason`, changed nothing and produced no work. */
function expectDropped(core: RaftCore, m: Message, reason: PeerDropReason): void {
  const before = stateOf(core);
  const count = core.status().droppedMessages?.[reason] ?? 0;
  expect(() => core.step(m)).not.toThrow();
  expect(stateOf(core)).toEqual(before);
  expect(core.hasReady()).toBe(false);
  expect(core.status().droppedMessages?.[reason]).toBe(count + 1);
}

describe('peer input: rule breakers are dropped and counted, never thrown', () => {
  it('a heartbeat at the leader’s own term, claiming another leader, does not stop the leader', () => {
    const { a } = ledCluster();
    const forged = heartbeatRequest('b', 'a', a.term);
    expectDropped(a, forged, 'secondLeader');
    expect(a.role).toBe('leader');
  });

  it('an append at the leader’s own term from another server does not stop the leader', () => {
    const { a } = ledCluster();
    expectDropped(a, appendRequest('c', 'a', a.term, { prevIndex: 0, prevTerm: 0 }), 'secondLeader');
  });

  it('a follower drops a leader message from a second leader of its term', () => {
    const { b } = ledCluster();
    expect(b.leader).toBe('a');
    expectDropped(b, heartbeatRequest('c', 'b', b.term), 'secondLeader');
    expect(b.leader).toBe('a');
  });

  it('an append whose entries do not follow prevIndex is dropped before touching the log', () => {
    const { b } = ledCluster();
    const last = b.status().lastIndex;
    const lastTerm = b.status().lastTerm;
    // Entry index 1 after prevIndex `last`: appending it would corrupt the log (and, once a committed
    // entry conflicts, used to throw "refusing to truncate committed entry").
    const garbage = appendRequest('a', 'b', b.term, {
      prevIndex: last,
      prevTerm: lastTerm,
      entries: [entry(1, b.term)],
    });
    expectDropped(b, garbage, 'malformedEntries');
  });

  it('an append whose entry terms exceed the sender’s term, or go backwards, is dropped', () => {
    const { b } = ledCluster();
    const { lastIndex, lastTerm } = b.status();
    const ahead = appendRequest('a', 'b', b.term, {
      prevIndex: lastIndex,
      prevTerm: lastTerm,
      entries: [entry(lastIndex + 1, b.term + 5)],
    });
    expectDropped(b, ahead, 'malformedEntries');
    const backwards = appendRequest('a', 'b', b.term, {
      prevIndex: lastIndex,
      prevTerm: lastTerm,
      entries: [entry(lastIndex + 1, b.term), entry(lastIndex + 2, lastTerm - 1)],
    });
    expectDropped(b, backwards, 'malformedEntries');
  });

  it('an append carrying an undecodable configuration entry is dropped, not appended', () => {
    const { b } = ledCluster();
    const { lastIndex, lastTerm } = b.status();
    const bad = appendRequest('a', 'b', b.term, {
      prevIndex: lastIndex,
      prevTerm: lastTerm,
      entries: [{ index: lastIndex + 1, term: b.term, type: 'config', data: encoder.encode('{not json') }],
    });
    expectDropped(b, bad, 'badConfiguration');
    const noVoter = appendRequest('a', 'b', b.term, {
      prevIndex: lastIndex,
      prevTerm: lastTerm,
      entries: [
        { index: lastIndex + 1, term: b.term, type: 'config', data: encoder.encode('[["a","nonvoter"]]') },
      ],
    });
    expectDropped(b, noVoter, 'badConfiguration');
  });

  it('an append with more entries than any member sends is dropped', () => {
    const { b } = ledCluster();
    const { lastIndex, lastTerm } = b.status();
    const many = Array.from({ length: 1025 }, (_, i) => entry(lastIndex + 1 + i, b.term));
    const flood = appendRequest('a', 'b', b.term, {
      prevIndex: lastIndex,
      prevTerm: lastTerm,
      entries: many,
    });
    expectDropped(b, flood, 'tooManyEntries');
  });

  it('an acknowledgement for an index above the leader’s log is dropped', () => {
    const { a } = ledCluster();
    const ack: Message = {
      type: 'appendResponse',
      from: 'b',
      to: 'a',
      term: a.term,
      success: true,
      index: 1_000_000,
      hintIndex: 0,
      hintTerm: 0,
    };
    expectDropped(a, ack, 'indexBeyondLog');
    // Still replicating normally afterwards.
    expect(a.propose(encoder.encode('y')).accepted).toBe(true);
    expect(sent(drain(a)).some((m) => m.type === 'appendRequest')).toBe(true);
  });

  it('non-integer or negative indexes are dropped (the in-memory transport does not validate)', () => {
    const { b } = ledCluster();
    expectDropped(b, appendRequest('a', 'b', b.term, { prevIndex: -1, prevTerm: 0 }), 'malformed');
    expectDropped(b, heartbeatRequest('a', 'b', b.term, 1.5), 'malformed');
    expectDropped(b, { ...heartbeatRequest('a', 'b', b.term), term: Number.NaN }, 'malformed');
  });

  it('a snapshot with an invalid configuration or a term above the sender’s is dropped', () => {
    const { b } = ledCluster();
    const request = (snapshot: SnapshotRequest['snapshot']): SnapshotRequest => ({
      type: 'snapshotRequest',
      from: 'a',
      to: 'b',
      term: b.term,
      snapshot,
    });
    const servers = [{ id: 'a', suffrage: 'voter' as const }];
    expectDropped(
      b,
      request({ index: 50, term: b.term, config: { servers: [] }, configIndex: 1 }),
      'badSnapshot',
    );
    expectDropped(
      b,
      request({ index: 50, term: b.term + 1, config: { servers }, configIndex: 1 }),
      'badSnapshot',
    );
    expectDropped(
      b,
      request({ index: 50, term: b.term, config: { servers }, configIndex: 51 }),
      'badSnapshot',
    );
  });

  it('timeoutNow is only taken from the leader (thesis §3.10)', () => {
    const { b } = ledCluster();
    expectDropped(b, { type: 'timeoutNow', from: 'c', to: 'b', term: b.term }, 'notFromLeader');
  });

  it('a read index request from a non-member is dropped', () => {
    const { a } = ledCluster();
    expectDropped(
      a,
      { type: 'readIndexRequest', from: 'zz', to: 'a', term: a.term, requestId: 1 },
      'notMember',
    );
  });

  it('counts nothing for ordinary traffic', () => {
    const { a, b } = ledCluster();
    expect(a.status().droppedMessages).toEqual({});
    expect(b.status().droppedMessages).toEqual({});
  });

  it('a fresh core still accepts the first append of a new leader (no false positives)', () => {
    const core = newCore('b', ['a', 'b', 'c']);
    core.step(appendRequest('a', 'b', 1, { entries: [entry(1, 1, 'noop')] }));
    expect(core.status()).toMatchObject({ leader: 'a', lastIndex: 1, droppedMessages: {} });
  });
});
