/**
 * The proposer where it proposes itself (src/node/proposer.ts): requests forwarded to this leader,
 * calls on the leader, and calls on a server that does not forward. A proposal waits for the
 * loop, then for its entry, both within one deadline; giving up before the loop ran it is a
 * definite failure, after that an unknown outcome. Forwarding is in proposer-forward.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ConfChange } from '../../src/core/membership.js';
import type { RaftErrorCode } from '../../src/errors.js';
import type { ForwardRequest } from '../../src/transport/types.js';
import { gate } from '../support/promises.js';
import { entry, flush, proposerOn, track } from '../support/proposer-fakes.js';

const ids = { origin: 'b', incarnation: 'other', seq: 9 };
const data = new Uint8Array([1, 2, 3]);
const apply: ForwardRequest = { kind: 'apply', ...ids, data };
const refused = (code: RaftErrorCode, leader: string | null = null) =>
  ({ accepted: false, code, message: 'refused here', leader }) as const;

describe('Proposer.performForwarded', () => {
  it.each([
    { request: apply, proposed: ['propose', data], response: 'r', outcome: { index: 1, response: 'r' } },
    {
      request: { kind: 'barrier', ...ids },
      proposed: ['propose', new Uint8Array(), 'barrier'],
      response: undefined,
      outcome: { index: 1, response: undefined },
    },
    // A membership change has no FSM response, and carries prevIndex only when it came with one.
    {
      request: { kind: 'addVoter', ...ids, id: 'x' },
      proposed: ['conf', { type: 'addVoter', id: 'x' }],
      response: 'ignored',
      outcome: { index: 1 },
    },
    {
      request: { kind: 'removeServer', ...ids, id: 'y', prevIndex: 4 },
      proposed: ['conf', { type: 'removeServer', id: 'y', prevIndex: 4 }],
      response: 'ignored',
      outcome: { index: 1 },
    },
  ] as const)('proposes a forwarded $request.kind as it came and answers with its outcome', async (c) => {
    const t = proposerOn({ role: 'leader' });
    const call = track(t.proposer.performForwarded(c.request as ForwardRequest));
    await flush();
    expect(t.proposed).toStrictEqual([c.proposed]);
    expect(t.calls).toEqual([]);
    t.proposals.applied(entry(1, 7), c.response);
    await flush();
    expect(call).toStrictEqual({ done: true, value: c.outcome });
  });

  it.each([
    { request: apply, message: 'apply: no outcome within 30000 ms' },
    { request: { kind: 'barrier', ...ids }, message: 'barrier: no outcome within 30000 ms' },
    {
      request: { kind: 'addNonvoter', ...ids, id: 'z' },
      message: 'addNonvoter z: no outcome within 30000 ms',
    },
  ] as const)('waits forwardedTimeoutMs for a $request.kind, then gives up on it as unknown', async (c) => {
    const t = proposerOn({ role: 'leader' });
    const call = track(t.proposer.performForwarded(c.request as ForwardRequest));
    await flush();
    t.clock.advance(29_999);
    await flush();
    expect(call.done).toBe(false);
    t.clock.advance(1);
    await flush();
    expect(call.error).toMatchObject({
      code: 'TIMEOUT',
      message: c.message,
      retryable: true,
      indefinite: true,
    });
    // The waiter is abandoned, not left behind until the entry's index is applied.
    expect(t.proposals.size).toBe(0);
  });

  it.each([
    { code: 'INVALID_INPUT', request: apply, message: 'apply: refused here', retryable: false },
    {
      code: 'CONFIGURATION_CHANGED',
      request: { kind: 'demoteVoter', ...ids, id: 'v', prevIndex: 2 },
      message: 'demoteVoter v: refused here',
      retryable: false,
    },
    { code: 'TRANSFER_IN_PROGRESS', request: apply, message: 'apply: refused here', retryable: true },
    {
      code: 'NOT_LEADER',
      leader: 'b',
      request: { kind: 'barrier', ...ids },
      message: 'barrier: refused here',
    },
  ] as const)('fails as the core refused with $code, retryable unless the refusal is for good', async (c) => {
    const t = proposerOn({ role: 'leader' });
    t.results.push(refused(c.code, 'leader' in c ? c.leader : null));
    const call = track(t.proposer.performForwarded(c.request as ForwardRequest));
    await flush();
    expect(call.error).toMatchObject({
      code: c.code,
      message: c.message,
      leader: 'leader' in c ? c.leader : null,
      retryable: 'retryable' in c ? c.retryable : true,
      indefinite: false,
    });
    expect(t.proposals.size).toBe(0);
  });

  it('shares one deadline between the wait for the loop and the wait for the entry', async () => {
    const t = proposerOn({ role: 'leader' });
    t.held.before = gate();
    const call = track(t.proposer.performForwarded(apply));
    t.clock.advance(300);
    t.held.before.open();
    await flush();
    expect(t.proposed).toHaveLength(1);
    t.clock.advance(29_699);
    await flush();
    expect(call.done).toBe(false);
    t.clock.advance(1);
    await flush();
    expect(call.error).toMatchObject({ message: 'apply: no outcome within 29700 ms', indefinite: true });
  });

  it('gives up definitely while the loop has not run it, and then never proposes it', async () => {
    const t = proposerOn({ role: 'leader' });
    t.held.before = gate();
    const call = track(t.proposer.performForwarded(apply));
    t.clock.advance(30_000);
    await flush();
    // Not "gave up before proposing": withDeadline rejects first, so that branch of propose() never runs.
    expect(call.error).toMatchObject({
      code: 'TIMEOUT',
      message: 'apply: no outcome within 30000 ms',
      retryable: true,
      indefinite: false,
    });
    t.held.before.open();
    await flush();
    expect(t.proposed).toEqual([]);
    expect(t.proposals.size).toBe(0);
  });

  it('gives up as unknown once the loop ran the proposal, even before the loop answered', async () => {
    const t = proposerOn({ role: 'leader' });
    t.held.after = gate();
    const call = track(t.proposer.performForwarded(apply));
    await flush();
    expect(t.proposed).toHaveLength(1);
    t.clock.advance(30_000);
    await flush();
    expect(call.error).toMatchObject({ code: 'TIMEOUT', retryable: true, indefinite: true });
  });
});

describe('Proposer on the leader, or on a server that does not forward', () => {
  it('a server that does not forward proposes itself, and NOT_LEADER ends the call at once', async () => {
    const t = proposerOn({ forwardToLeader: false });
    t.results.push({ accepted: false, code: 'NOT_LEADER', message: 'not the leader', leader: 'b' });
    const call = track(t.proposer.apply(data, { idempotent: true }));
    await flush();
    expect(call.error).toMatchObject({
      code: 'NOT_LEADER',
      message: 'apply: not the leader',
      leader: 'b',
      retryable: true,
      indefinite: false,
    });
    expect(t.proposed).toEqual([['propose', data]]);
    expect(t.proposed[0]?.[1]).toBe(data);
    expect(t.calls).toEqual([]);
    expect(t.pauses).toEqual([]);
  });

  it('a server that does not forward retries its other retryable refusals', async () => {
    const t = proposerOn({ forwardToLeader: false });
    t.results.push(refused('TRANSFER_IN_PROGRESS'));
    const call = track(t.proposer.apply(data, {}));
    await flush();
    expect(t.proposed).toHaveLength(2);
    expect(t.pauses).toEqual([10]);
    t.proposals.applied(entry(2, 7), 'r');
    await flush();
    expect(call).toStrictEqual({ done: true, value: { index: 2, response: 'r' } });
  });

  it('the leader proposes itself within the call’s deadline, by default the retry timeout', async () => {
    const t = proposerOn({ role: 'leader' });
    const own = track(t.proposer.apply(data, { timeoutMs: 700 }));
    await flush();
    expect(t.proposed).toEqual([['propose', data]]);
    t.clock.advance(700);
    await flush();
    expect(own.error).toMatchObject({ message: 'apply: no outcome within 700 ms', indefinite: true });
    const byDefault = track(t.proposer.apply(data, {}));
    await flush();
    t.clock.advance(5000);
    await flush();
    expect(byDefault.error).toMatchObject({ message: 'apply: no outcome within 5000 ms', indefinite: true });
    expect(t.calls).toEqual([]);
  });

  it('a call the leader cannot repeat waits out a change of leader', async () => {
    const t = proposerOn({ role: 'leader' });
    const call = track(t.proposer.apply(data, {}));
    track(t.proposer.changeMembership({ type: 'addVoter', id: 'x' }, { prevIndex: 3 }));
    await flush();
    // Neither watches the leader: only an idempotent call may move on to the next leader.
    expect(t.listeners.size).toBe(0);
    t.state.role = 'follower';
    t.leaderChange('b');
    await flush();
    expect(call.done).toBe(false);
    t.proposals.applied(entry(1, 7), 'r');
    await flush();
    expect(call).toStrictEqual({ done: true, value: { index: 1, response: 'r' } });
    track(t.proposer.apply(data, { idempotent: true }));
    await flush();
    expect(t.listeners.size).toBe(1);
  });

  it('an idempotent call goes on through the new leader when this node stops leading', async () => {
    const t = proposerOn({ role: 'leader' });
    const call = track(t.proposer.barrier({}));
    await flush();
    expect(t.proposed).toEqual([['propose', new Uint8Array(), 'barrier']]);
    expect(t.listeners.size).toBe(1);
    // Hearing of itself as leader again changes nothing.
    t.leaderChange('a');
    await flush();
    expect(t.proposals.size).toBe(1);
    t.state.role = 'follower';
    t.leaderChange('b');
    await flush();
    expect(t.proposals.size).toBe(0);
    expect(t.pauses).toEqual([10]);
    expect(t.calls.map((c) => [c.to, c.request])).toStrictEqual([
      ['b', { kind: 'barrier', origin: 'a', incarnation: 'inc', seq: 1 }],
    ]);
    t.call(0).answer({ ok: true, index: 1 });
    await flush();
    expect(call).toStrictEqual({ done: true, value: { index: 1 } });
    expect(t.listeners.size).toBe(0);
  });

  it('an idempotent call whose deadline passes as leadership goes ends with an unknown LEADERSHIP_LOST', async () => {
    const t = proposerOn({ role: 'leader' });
    const call = track(t.proposer.barrier({ timeoutMs: 800 }));
    await flush();
    t.state.role = 'follower';
    t.leaderChange('c');
    // The proposal's own timer went with the abort; only the call's deadline is left to pass.
    t.clock.advance(800);
    await flush();
    expect(call.error).toMatchObject({
      code: 'LEADERSHIP_LOST',
      message: 'barrier: a stopped leading before the outcome was known',
      retryable: true,
      indefinite: true,
      leader: 'c',
      cause: { code: 'TIMEOUT', message: 'barrier: aborted', indefinite: true },
    });
    expect(t.calls).toEqual([]);
    expect(t.listeners.size).toBe(0);
  });

  it('the caller’s abort ends a call on the leader with its own error, even as leadership goes', async () => {
    const t = proposerOn({ role: 'leader' });
    const first = new AbortController();
    const alone = track(t.proposer.barrier({ signal: first.signal }));
    await flush();
    first.abort();
    await flush();
    expect(alone.error).toMatchObject({ code: 'TIMEOUT', message: 'barrier: aborted', indefinite: true });
    const second = new AbortController();
    const both = track(t.proposer.barrier({ signal: second.signal }));
    await flush();
    t.leaderChange('c');
    second.abort();
    await flush();
    expect(both.error).toMatchObject({ code: 'TIMEOUT', message: 'barrier: aborted', indefinite: true });
  });

  it('changes membership with prevIndex only when given, and refuses a changed configuration for good', async () => {
    const t = proposerOn({ role: 'leader' });
    const change: ConfChange = { type: 'addVoter', id: 'x' };
    const plain = track(t.proposer.changeMembership(change, {}));
    await flush();
    expect(t.listeners.size).toBe(1);
    const guarded = track(t.proposer.changeMembership({ type: 'removeServer', id: 'y' }, { prevIndex: 4 }));
    await flush();
    expect(t.proposed).toStrictEqual([
      ['conf', { type: 'addVoter', id: 'x' }],
      ['conf', { type: 'removeServer', id: 'y', prevIndex: 4 }],
    ]);
    t.proposals.applied(entry(1, 7), 'ignored');
    t.proposals.applied(entry(2, 7), 'ignored');
    await flush();
    expect([plain, guarded]).toStrictEqual([
      { done: true, value: { index: 1 } },
      { done: true, value: { index: 2 } },
    ]);
    t.results.push(refused('CONFIGURATION_CHANGED'));
    const stale = track(t.proposer.changeMembership({ type: 'demoteVoter', id: 'z' }, { prevIndex: 1 }));
    await flush();
    expect(stale.error).toMatchObject({
      code: 'CONFIGURATION_CHANGED',
      message: 'demoteVoter z: refused here',
      retryable: false,
      indefinite: false,
    });
  });
});
