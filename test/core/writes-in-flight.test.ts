/**
 * A leader's writes in flight (`accept` now, `persisted` later): the core takes input while the
 * leader's own entries are written, hands no entry out twice, and commits nothing beyond what the
 * leader itself has persisted.
 */
import { describe, expect, it } from 'vitest';
import {
  answersTo,
  heartbeatRequest,
  leaderWithProposal,
  must,
  newCore,
  ofType,
  sent,
  text,
} from './helpers.js';

describe('writes in flight', () => {
  it("a leader's Ready of new entries may be persisted later; a follower's or a candidate's may not", () => {
    const { c, a, ready } = leaderWithProposal();
    expect(a.mayPersistLater(ready)).toBe(true);
    a.advance(ready);

    const b = c.core('b');
    b.step({ ...must(ofType(sent(ready), 'appendRequest')[0]), to: 'b' });
    const bReady = b.ready();
    expect(b.mayPersistLater(bReady)).toBe(false);
    expect(() => b.accept(bReady)).toThrow();
    b.advance(bReady);

    const d = newCore('d', ['d', 'e', 'f'], { options: { preVote: false } });
    d.campaign();
    const dReady = d.ready();
    expect(d.mayPersistLater(dReady)).toBe(false);
    d.advance(dReady);
  });

  it('takes input while the write runs, hands no entry out twice, and commits only once the leader persisted', () => {
    const { c, a, ready: first } = leaderWithProposal();
    expect(first.entries.map((e) => e.index)).toEqual([2]);
    a.accept(first);

    // The followers store 2 and acknowledge it while a is still writing it.
    const acks = answersTo(c, first.earlyMessages);
    a.propose(text('y'));
    for (const m of acks) a.step(m);
    expect(a.status().commitIndex).toBe(1);
    const second = a.ready();
    expect(second.entries.map((e) => e.index)).toEqual([3]);
    expect(second.committedEntries).toEqual([]);
    a.accept(second);

    // a's write of 2 is done: 2 commits. 3 waits for a's second write, though b and c hold it.
    for (const m of answersTo(c, second.earlyMessages)) a.step(m);
    a.persisted(first);
    expect(a.status().commitIndex).toBe(2);
    expect(a.status().persistedIndex).toBe(2);
    a.persisted(second);
    expect(a.status().commitIndex).toBe(3);
  });

  it('a leader that steps down with a write in flight persists what follows after it, in order', () => {
    const { a, ready: inFlight } = leaderWithProposal();
    a.accept(inFlight);
    // A leader of a higher term deposes a before its write is done; that Ready changes the term, so it is
    // persisted in the usual way, after the one in flight.
    a.step(heartbeatRequest('b', 'a', 9));
    expect(a.role).toBe('follower');
    const stepDown = a.ready();
    expect(a.mayPersistLater(stepDown)).toBe(false);
    expect(stepDown.hardState?.term).toBe(9);
    a.advance(stepDown);
    a.persisted(inFlight);
    expect(a.status().persistedIndex).toBe(2);
    expect(a.term).toBe(9);
  });
});
