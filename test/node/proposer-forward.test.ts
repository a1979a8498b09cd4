/**
 * The proposer on a follower (src/node/proposer.ts): it forwards each call to the leader under
 * ids the leader deduplicates by, re-sends an idempotent call after resendAfterMs with the same
 * ids (new ones only after the leader answered an unknown outcome, which it would repeat
 * forever), follows NOT_LEADER hints, broadcasts when it knows no leader, and stops waiting on a
 * leader as soon as it hears of another.
 */
import { describe, expect, it } from 'vitest';
import { RaftError } from '../../src/errors.js';
import { flush, proposerOn, sent, track, wire } from '../support/proposer-fakes.js';

const data = new Uint8Array([4, 5]);
const from = { origin: 'a', incarnation: 'inc' };
const lost = (what: string, leader: string) =>
  `${what}: ${leader} stopped leading before the outcome was known`;
/** What a transport rejects with when no answer came in time: the request may have been performed. */
const noAnswer = () => new RaftError('TIMEOUT', 'no answer', { retryable: true, indefinite: true });

describe('Proposer forwarding to a known leader', () => {
  it('sends each call to the leader with its ids and kind, and settles with the answer', async () => {
    const t = proposerOn();
    const applied = track(t.proposer.apply(data, { timeoutMs: 3000 }));
    const barrier = track(t.proposer.barrier({}));
    const added = track(t.proposer.changeMembership({ type: 'addVoter', id: 'x' }, { timeoutMs: 3000 }));
    const removed = track(
      t.proposer.changeMembership({ type: 'removeServer', id: 'y' }, { prevIndex: 4, timeoutMs: 3000 }),
    );
    await flush();
    expect(t.calls.map((c) => c.request)).toStrictEqual([
      { kind: 'apply', ...from, seq: 1, data },
      { kind: 'barrier', ...from, seq: 2 },
      { kind: 'addVoter', ...from, seq: 3, id: 'x' },
      { kind: 'removeServer', ...from, seq: 4, id: 'y', prevIndex: 4 },
    ]);
    // Idempotent calls (barrier, a change without prevIndex) wait resendAfterMs per attempt; the others all their time.
    expect(sent(t.calls)).toEqual([
      ['b', 1, 3000],
      ['b', 2, 1000],
      ['b', 3, 1000],
      ['b', 4, 3000],
    ]);
    expect(t.calls.every((c) => c.signal instanceof AbortSignal && !c.signal.aborted)).toBe(true);
    t.call(0).answer({ ok: true, index: 4, response: 'r' });
    t.call(1).answer({ ok: true, index: 5 });
    t.call(2).answer({ ok: true, index: 6, response: undefined });
    t.call(3).answer({ ok: true, index: 7 });
    await flush();
    expect([applied, barrier, added, removed]).toStrictEqual([
      { done: true, value: { index: 4, response: 'r' } },
      { done: true, value: { index: 5 } },
      { done: true, value: { index: 6 } },
      { done: true, value: { index: 7 } },
    ]);
    expect(t.proposed).toEqual([]);
    expect(t.listeners.size).toBe(0);
  });

  it('re-sends an unanswered idempotent call with the same ids, bounded by the time left', async () => {
    const t = proposerOn();
    const call = track(t.proposer.apply(data, { idempotent: true, timeoutMs: 3000 }));
    t.clock.advance(1000);
    t.call(0).fail(noAnswer());
    await flush();
    t.clock.advance(1500);
    t.call(1).fail(noAnswer());
    await flush();
    expect(sent(t.calls)).toEqual([
      ['b', 1, 1000],
      ['b', 1, 1000],
      ['b', 1, 500],
    ]);
    expect(t.pauses).toEqual([10, 20]);
    t.call(2).answer({ ok: true, index: 3, response: 'once' });
    await flush();
    expect(call).toStrictEqual({ done: true, value: { index: 3, response: 'once' } });
  });

  it('takes new ids only after the leader answered an unknown outcome, and ignores hints of other codes', async () => {
    const t = proposerOn();
    const call = track(t.proposer.barrier({}));
    t.call(0).answer(wire('CONFIG_CHANGE_IN_PROGRESS', { leader: 'c' }));
    await flush();
    t.call(1).answer(wire('LEADERSHIP_LOST', { indefinite: true }));
    await flush();
    expect(sent(t.calls)).toEqual([
      ['b', 1, 1000],
      ['b', 1, 1000],
      ['b', 2, 1000],
    ]);
    t.call(2).answer({ ok: true, index: 8 });
    await flush();
    expect(call).toStrictEqual({ done: true, value: { index: 8 } });
  });

  it('fails a call it cannot repeat with the unknown outcome the leader answered, sending it once', async () => {
    const t = proposerOn();
    const call = track(t.proposer.apply(data, {}));
    t.call(0).answer(wire('LEADERSHIP_LOST', { indefinite: true, leader: 'c', message: 'lost it' }));
    await flush();
    expect(call.error).toBeInstanceOf(RaftError);
    expect(call.error).toMatchObject({
      code: 'LEADERSHIP_LOST',
      message: 'lost it',
      retryable: true,
      indefinite: true,
      leader: 'c',
    });
    expect(t.calls).toHaveLength(1);
  });

  it('passes a refusal the leader answered through as it is', async () => {
    const t = proposerOn();
    const call = track(t.proposer.apply(data, {}));
    t.call(0).answer(wire('INVALID_INPUT', { retryable: false, message: 'bad data' }));
    await flush();
    expect(call.error).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'bad data',
      retryable: false,
      indefinite: false,
      leader: null,
    });
    expect(t.calls).toHaveLength(1);
    expect(t.listeners.size).toBe(0);
  });

  it('goes at once to the leader a NOT_LEADER names, else after a pause to the leader known then', async () => {
    const t = proposerOn();
    const call = track(t.proposer.apply(data, {}));
    t.call(0).answer(wire('NOT_LEADER', { leader: 'c' }));
    await flush();
    expect(t.pauses).toEqual([]);
    t.state.leader = 'd';
    t.call(1).answer(wire('NOT_LEADER'));
    await flush();
    expect(sent(t.calls)).toEqual([
      ['b', 1, 5000],
      ['c', 1, 5000],
      ['d', 1, 5000],
    ]);
    expect(t.pauses).toEqual([10]);
    t.call(2).answer({ ok: true, index: 2, response: 'r' });
    await flush();
    expect(call).toStrictEqual({ done: true, value: { index: 2, response: 'r' } });
  });

  it('stops waiting on the leader once another leader, or none, is known: the outcome is unknown', async () => {
    const t = proposerOn();
    const applied = track(t.proposer.apply(data, {}));
    t.leaderChange('b');
    expect(t.call(0).signal?.aborted).toBe(false);
    t.leaderChange('c');
    expect(t.call(0).signal?.aborted).toBe(true);
    await flush();
    expect(applied.error).toMatchObject({
      code: 'LEADERSHIP_LOST',
      message: lost('apply', 'b'),
      retryable: true,
      indefinite: true,
      leader: 'c',
    });
    expect((applied.error as Error).cause).toBe(t.call(0).abortError);
    const demoted = track(t.proposer.changeMembership({ type: 'demoteVoter', id: 'z' }, { prevIndex: 2 }));
    t.leaderChange(null);
    await flush();
    expect(demoted.error).toMatchObject({
      message: lost('demoteVoter z', 'c'),
      leader: null,
      indefinite: true,
    });
    expect(t.calls.map((c) => c.to)).toEqual(['b', 'c']);
    expect(t.listeners.size).toBe(0);
  });

  it('ends with the transport’s error when the caller aborts, even as the leader changes', async () => {
    const t = proposerOn();
    const first = new AbortController();
    const alone = track(t.proposer.apply(data, { signal: first.signal }));
    first.abort();
    expect(t.call(0).signal?.aborted).toBe(true);
    await flush();
    expect(alone.error).toBe(t.call(0).abortError);
    const second = new AbortController();
    const both = track(t.proposer.apply(data, { signal: second.signal }));
    t.leaderChange('c');
    second.abort();
    await flush();
    expect(both.error).toBe(t.call(1).abortError);
    // An idempotent call's attempts are bounded by resendAfterMs, but still end with the caller.
    const third = new AbortController();
    const repeatable = track(t.proposer.barrier({ signal: third.signal }));
    third.abort();
    expect(t.call(2).signal?.aborted).toBe(true);
    await flush();
    expect(repeatable.error).toBe(t.call(2).abortError);
    expect(t.calls).toHaveLength(3);
  });
});

describe('Proposer broadcasting when no other leader is known', () => {
  it('broadcasts when the leader known is itself or none, for at most resendAfterMs', async () => {
    const t = proposerOn({ leader: 'a' });
    const self = track(t.proposer.apply(data, { timeoutMs: 3000 }));
    t.state.leader = null;
    const none = track(t.proposer.apply(data, { timeoutMs: 400 }));
    expect(sent(t.calls)).toEqual([
      [null, 1, 1000],
      [null, 2, 400],
    ]);
    expect(t.calls.every((c) => c.signal instanceof AbortSignal && !c.signal.aborted)).toBe(true);
    expect(t.listeners.size).toBe(2);
    t.call(0).answer({ ok: true, index: 1, response: 'x' });
    t.call(1).answer({ ok: true, index: 2 });
    await flush();
    expect([self, none]).toStrictEqual([
      { done: true, value: { index: 1, response: 'x' } },
      { done: true, value: { index: 2 } },
    ]);
    expect(t.listeners.size).toBe(0);
  });

  it('stops a broadcast when a leader becomes known, and sends the same request to it', async () => {
    const t = proposerOn({ leader: null });
    const call = track(t.proposer.barrier({}));
    t.leaderChange(null);
    expect(t.call(0).signal?.aborted).toBe(false);
    t.leaderChange('c');
    expect(t.call(0).signal?.aborted).toBe(true);
    await flush();
    expect(sent(t.calls)).toEqual([
      [null, 1, 1000],
      ['c', 1, 1000],
    ]);
    expect(t.pauses).toEqual([10]);
    t.call(1).answer({ ok: true, index: 9 });
    await flush();
    expect(call).toStrictEqual({ done: true, value: { index: 9 } });
    expect(t.listeners.size).toBe(0);
  });

  it('fails a broadcast nobody answered with an indefinite TIMEOUT that names the call', async () => {
    const t = proposerOn({ leader: null });
    const applied = track(t.proposer.apply(data, { timeoutMs: 1000 }));
    const added = track(t.proposer.changeMembership({ type: 'addVoter', id: 'x' }, { timeoutMs: 1000 }));
    t.clock.advance(1000);
    const timeouts = [noAnswer(), noAnswer()];
    t.call(0).fail(timeouts[0]);
    t.call(1).fail(timeouts[1]);
    await flush();
    // A leader may have taken it and answered too late, or not answered at all (an unknown
    // outcome is never sent to a broadcast): the outcome is unknown.
    const failure = { code: 'TIMEOUT', retryable: true, indefinite: true };
    expect(applied.error).toMatchObject({ ...failure, message: 'apply: no leader answered' });
    expect(added.error).toMatchObject({ ...failure, message: 'addVoter x: no leader answered' });
    expect([(applied.error as Error).cause, (added.error as Error).cause]).toEqual(timeouts);
    expect((applied.error as Error).cause).toBe(timeouts[0]);
    expect(t.calls).toHaveLength(2);
    expect(t.listeners.size).toBe(0);
  });

  it('re-sends an unanswered broadcast only for an idempotent call, with the same ids', async () => {
    const t = proposerOn({ leader: null });
    const once = track(t.proposer.apply(data, { timeoutMs: 3000 }));
    const again = track(t.proposer.apply(data, { idempotent: true, timeoutMs: 3000 }));
    t.clock.advance(1000);
    t.call(0).fail(noAnswer());
    t.call(1).fail(noAnswer());
    await flush();
    expect(once.error).toMatchObject({
      code: 'TIMEOUT',
      indefinite: true,
      message: 'apply: no leader answered',
    });
    expect(again.done).toBe(false);
    t.clock.advance(10);
    await flush();
    expect(sent(t.calls)).toEqual([
      [null, 1, 1000],
      [null, 2, 1000],
      [null, 2, 1000],
    ]);
    t.call(2).answer({ ok: true, index: 3 });
    await flush();
    expect(again).toStrictEqual({ done: true, value: { index: 3 } });
  });

  it('passes other failures through, and the transport’s error once the caller aborted', async () => {
    const t = proposerOn({ leader: null });
    const unreachable = new RaftError('UNREACHABLE', 'nobody there');
    const failed = track(t.proposer.apply(data, {}));
    t.call(0).fail(unreachable);
    await flush();
    expect(failed.error).toBe(unreachable);
    const caller = new AbortController();
    const aborted = track(t.proposer.apply(data, { signal: caller.signal }));
    caller.abort();
    expect(t.call(1).signal?.aborted).toBe(true);
    await flush();
    expect(aborted.error).toBe(t.call(1).abortError);
    expect(t.listeners.size).toBe(0);
  });
});
