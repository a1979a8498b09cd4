import { describe, expect, it } from 'vitest';
import type { AppendRequest, HeartbeatRequest, Message } from '../../src/core/index.js';
import {
  isMulticast,
  type Multicast,
  multicastFor,
  type Outgoing,
  planSends,
} from '../../src/core/multicast.js';
import { appendRequest, entries, heartbeatRequest, voteResponse } from './helpers.js';

/** An append from leader `a` in term 2 carrying entries prevIndex+1..prevIndex+count. */
function append(to: string, prevIndex: number, count: number, commit = 0): AppendRequest {
  const terms = Array.from({ length: count }, () => 2);
  return appendRequest('a', to, 2, {
    prevIndex,
    prevTerm: 2,
    entries: entries(prevIndex + 1, terms),
    commit,
  });
}

function heartbeat(to: string, commit = 5, context = 0): HeartbeatRequest {
  return { ...heartbeatRequest('a', to, 2, commit), context };
}

/** A follower's success for index 4, as leader `a` might relay it: not a multicast candidate. */
function appendOk(to: string): Message {
  return {
    type: 'appendResponse',
    from: 'a',
    to,
    term: 2,
    success: true,
    index: 4,
    hintIndex: 0,
    hintTerm: 0,
  };
}

/** Each outgoing item as "to:type" or "multicast:type[recipients]", for order assertions. */
function shape(out: readonly Outgoing[]): string[] {
  return out.map((o) =>
    isMulticast(o) ? `multicast:${o.message.type}[${o.recipients.join(',')}]` : `${o.to}:${o.type}`,
  );
}

/** What `id` receives from `out`, in order: its own messages and the multicasts it is among. */
function receivedBy(id: string, out: readonly Outgoing[]): Message[] {
  const got: Message[] = [];
  for (const o of out) {
    if (!isMulticast(o)) {
      if (o.to === id) got.push(o);
      continue;
    }
    const m = multicastFor(id, o);
    if (m !== null) got.push(m);
  }
  return got;
}

function only(out: readonly Outgoing[]): Multicast {
  expect(out).toHaveLength(1);
  const first = out[0] as Outgoing;
  if (!isMulticast(first)) throw new Error('expected a multicast');
  return first;
}

describe('planSends', () => {
  it('sends appends identical but for their addressee as one multicast', () => {
    const messages = [append('b', 4, 2, 3), append('c', 4, 2, 3), append('d', 4, 2, 3)];
    const mc = only(planSends(messages, 2));
    expect(mc.kind).toBe('multicast');
    expect(mc.recipients).toEqual(['b', 'c', 'd']);
    expect(mc.message).toBe(messages[0]);
  });

  it('sends identical heartbeats as one multicast', () => {
    const mc = only(planSends([heartbeat('b'), heartbeat('c')], 2));
    expect(mc.recipients).toEqual(['b', 'c']);
    expect(mc.message.type).toBe('heartbeatRequest');
  });

  it('keeps apart appends that differ in anything but their addressee', () => {
    const messages: Message[] = [
      append('b', 4, 2, 3),
      append('c', 3, 3, 3), // other previous entry
      append('d', 4, 2, 1), // other commit index
      append('e', 4, 1, 3), // fewer entries
      { ...append('f', 4, 2, 3), term: 3 }, // other term
      appendRequest('a', 'g', 2, { prevIndex: 4, prevTerm: 1, entries: entries(5, [2, 2]), commit: 3 }),
    ];
    expect(planSends(messages, 2)).toEqual(messages);
  });

  it('keeps apart heartbeats with another commit index or context', () => {
    const messages = [heartbeat('b', 5, 1), heartbeat('c', 6, 1), heartbeat('d', 5, 2)];
    expect(planSends(messages, 2)).toEqual(messages);
  });

  it('sends a group smaller than minRecipients as separate messages, each in its order', () => {
    const messages: Message[] = [heartbeat('b'), voteResponse('a', 'x', 2, true), heartbeat('c')];
    const out = planSends(messages, 3);
    expect(out.every((o) => !isMulticast(o))).toBe(true);
    expect(out).toHaveLength(3);
    for (const id of ['b', 'c', 'x'])
      expect(receivedBy(id, out)).toEqual(messages.filter((m) => m.to === id));
    expect(shape(planSends([...messages, heartbeat('d')], 3))).toEqual([
      'multicast:heartbeatRequest[b,c,d]',
      'x:voteResponse',
    ]);
  });

  it('returns fewer messages than minRecipients unchanged', () => {
    const messages = [heartbeat('b'), heartbeat('c')];
    expect(planSends(messages, 3)).toEqual(messages);
  });

  it('leaves every other message as it is, in order', () => {
    const others: Message[] = [
      voteResponse('a', 'b', 2, true),
      appendOk('b'),
      appendOk('c'),
      { type: 'timeoutNow', from: 'a', to: 'c', term: 2 },
      { type: 'readIndexRequest', from: 'a', to: 'b', term: 2, requestId: 7 },
    ];
    const [vote, okB, okC, timeout, read] = others as [Message, Message, Message, Message, Message];
    const out = planSends([vote, heartbeat('b'), okB, heartbeat('c'), okC, timeout, read], 2);
    expect(out.filter((o) => !isMulticast(o))).toEqual(others);
    expect(shape(out)).toEqual([
      'b:voteResponse',
      'multicast:heartbeatRequest[b,c]',
      'b:appendResponse',
      'c:appendResponse',
      'c:timeoutNow',
      'b:readIndexRequest',
    ]);
  });

  it('keeps out of a group a follower sent something else after the group was placed', () => {
    const okB = appendOk('b');
    const messages = [heartbeat('c'), okB, heartbeat('b'), heartbeat('d')];
    const out = planSends(messages, 2);
    // b's heartbeat starts a group of its own after b's answer, and d's joins that newest group.
    expect(shape(out)).toEqual(['c:heartbeatRequest', 'b:appendResponse', 'multicast:heartbeatRequest[b,d]']);
    expect(receivedBy('b', out)).toEqual([okB, messages[2]]);
  });

  it("never lets a follower's later append overtake an earlier one to join a group", () => {
    // c's first append equals b's second; b must receive 5-6 before 7, so its copy of 7 stays its own.
    const messages = [append('c', 6, 1), append('d', 6, 1), append('b', 4, 2), append('b', 6, 1)];
    const out = planSends(messages, 2);
    expect(shape(out)).toEqual(['multicast:appendRequest[c,d]', 'b:appendRequest', 'b:appendRequest']);
    expect(receivedBy('b', out)).toEqual([messages[2], messages[3]]);
  });

  it("lets a follower's later append join a group placed after its earlier one", () => {
    const messages = [append('b', 4, 2), append('c', 6, 1), append('b', 6, 1)];
    const out = planSends(messages, 2);
    expect(shape(out)).toEqual(['b:appendRequest', 'multicast:appendRequest[c,b]']);
    expect(receivedBy('b', out).map((m) => (m as AppendRequest).prevIndex)).toEqual([4, 6]);
  });

  it('puts a follower at most once in a group, and keeps both copies it was sent', () => {
    const out = planSends([heartbeat('b'), heartbeat('b'), heartbeat('c')], 2);
    expect(shape(out)).toEqual(['b:heartbeatRequest', 'multicast:heartbeatRequest[b,c]']);
    for (const o of out) if (isMulticast(o)) expect(new Set(o.recipients).size).toBe(o.recipients.length);
    expect(receivedBy('b', out)).toHaveLength(2);
    expect(receivedBy('c', out)).toHaveLength(1);
  });
});

describe('multicastFor', () => {
  const first = heartbeat('b', 5);
  const mc: Multicast = { kind: 'multicast', recipients: ['b', 'c'], message: first };

  it('gives each recipient the message addressed to itself', () => {
    expect(multicastFor('b', mc)).toBe(first);
    expect(multicastFor('c', mc)).toEqual({ ...first, to: 'c' });
    expect(first.to).toBe('b');
  });

  it('gives nothing to a member that is not a recipient, the sender included', () => {
    expect(multicastFor('d', mc)).toBeNull();
    expect(multicastFor('a', mc)).toBeNull();
  });

  it('tells multicasts from messages', () => {
    expect(isMulticast(mc)).toBe(true);
    expect(isMulticast(first)).toBe(false);
  });
});
