/**
 * The Ready's `earlyMessages`: a leader's appends and heartbeats may be sent while its own write
 * runs (thesis §10.2.1). Everything that promises something about this server's storage (votes,
 * acknowledgements, a term the server has not persisted yet) must wait for the write.
 */
import { describe, expect, it } from 'vitest';
import type { Configuration, Message } from '../../src/core/index.js';
import {
  answersTo,
  appendRequest,
  drain,
  leaderWithProposal,
  must,
  newCore,
  ofType,
  text,
} from './helpers.js';

const kinds = (messages: readonly Message[]) => messages.map((m) => `${m.type}>${m.to}`).sort();

describe('early messages', () => {
  it("a leader's appends of a new entry may go before the entry is persisted", () => {
    const { a, ready } = leaderWithProposal();
    expect(ready.entries.map((e) => e.index)).toEqual([2]);
    expect(kinds(ready.earlyMessages)).toEqual(['appendRequest>b', 'appendRequest>c']);
    expect(ofType(ready.messages, 'appendRequest')).toEqual([]);
    a.advance(ready);
  });

  it('the leader commits an entry the followers acknowledged only after its own write is reported', () => {
    const { c, a, ready } = leaderWithProposal();
    // The followers store and acknowledge the entry while a's write is still running.
    const acks = ofType(answersTo(c, ready.earlyMessages), 'appendResponse');
    expect(acks).toHaveLength(2);
    // a takes no input until its write is done; then the acknowledgements commit the entry.
    expect(() => a.step(must(acks[0]))).toThrow();
    a.advance(ready);
    for (const m of acks) a.step(m);
    expect(a.status().commitIndex).toBe(2);
  });

  it('a lone voter that elects itself announces its new term only after persisting it', () => {
    const config: Configuration = {
      servers: [
        { id: 'a', suffrage: 'voter' },
        { id: 'b', suffrage: 'nonvoter' },
      ],
    };
    const a = newCore('a', config, { hardState: { term: 3, vote: null, commit: 0 } });
    for (let i = 0; i < 100 && a.role !== 'leader'; i++) a.tick();
    expect(a.role).toBe('leader');
    const ready = a.ready();
    expect(ready.hardState?.term).toBe(4);
    // A crash before the write would make a forget term 4 and win it again with another log:
    // b must not hear of term 4 before it is on disk.
    expect(ready.earlyMessages.filter((m) => m.term > 3)).toEqual([]);
    expect(kinds(ready.messages)).toContain('appendRequest>b');
    a.advance(ready);
    // Once b has the no-op, a's next append to b may go early again.
    a.step({
      type: 'appendResponse',
      from: 'b',
      to: 'a',
      term: 4,
      success: true,
      index: 1,
      hintIndex: 0,
      hintTerm: 0,
    });
    drain(a);
    a.propose(text('y'));
    expect(kinds(a.ready().earlyMessages)).toEqual(['appendRequest>b']);
  });

  it('acknowledgements and votes always wait for the write', () => {
    const b = newCore('b', ['a', 'b', 'c'], { hardState: { term: 1, vote: 'a', commit: 0 } });
    b.step(
      appendRequest('a', 'b', 1, { entries: [{ index: 1, term: 1, type: 'noop', data: new Uint8Array() }] }),
    );
    const ready = b.ready();
    expect(ready.earlyMessages).toEqual([]);
    expect(kinds(ready.messages)).toEqual(['appendResponse>a']);
    b.advance(ready);

    // Without pre-vote, a timed-out follower becomes a candidate at once and asks for votes: its
    // own vote and new term must be on disk before anyone hears of them.
    const c = newCore('c', ['a', 'b', 'c'], {
      hardState: { term: 1, vote: null, commit: 0 },
      options: { preVote: false },
    });
    for (let i = 0; i < 100 && c.role !== 'candidate'; i++) c.tick();
    expect(c.role).toBe('candidate');
    const campaign = c.ready();
    expect(campaign.hardState).toMatchObject({ term: 2, vote: 'c' });
    expect(campaign.earlyMessages).toEqual([]);
    expect(kinds(campaign.messages)).toEqual(['voteRequest>a', 'voteRequest>b']);

    // A voter's grant waits for its persisted vote, too.
    const a = newCore('a', ['a', 'b', 'c'], { hardState: { term: 1, vote: null, commit: 0 } });
    a.step(must(ofType(campaign.messages, 'voteRequest').find((m) => m.to === 'a')));
    const grant = a.ready();
    expect(grant.hardState).toMatchObject({ term: 2, vote: 'c' });
    expect(grant.earlyMessages).toEqual([]);
    expect(ofType(grant.messages, 'voteResponse')).toMatchObject([{ to: 'c', granted: true }]);
  });
});
