import { describe, expect, it } from 'vitest';
import { MAX_ENTRIES_PER_APPEND } from '../../src/core/peer-rules.js';
import { msgpackEncode } from '../../src/msgpack.js';
import {
  type DecodeContext,
  decodeInbound,
  encodeBatch,
  encodeEnvelope,
  encodeWithBody,
  MAX_BATCH_ITEMS,
  messageEnvelope,
} from '../../src/transport/mqtt-codec.js';
import { firstIssue } from '../../src/transport/mqtt-fast-checks.js';
import type { TopicRole } from '../../src/transport/mqtt-topics.js';
import { heartbeat } from '../support/messages.js';

const ctx: DecodeContext = { cluster: 'c1', group: 'g1', localId: 'b', maxBytes: 4096 };
const hb = { term: 2, commit: 1, context: 0 };

/** A raw envelope: the fields of a heartbeat from a to b in c1, with `over` replacing or adding some. */
function raw(over: Record<string, unknown>): Uint8Array {
  return msgpackEncode({ v: 2, k: 'heartbeatRequest', id: '', f: 'a', t: 'b', c: 'c1', b: hb, ...over });
}

/**
 * A transcript of refusals: each payload breaks one rule and must be refused for that rule, with
 * the detail naming what was wrong. Everything else in it is valid.
 */
const REFUSED: Array<[string, Uint8Array, TopicRole, string, string | RegExp]> = [
  [
    'a payload over the limit',
    new Uint8Array(4097),
    'inbox',
    'oversized',
    '4097 bytes exceeds the limit of 4096',
  ],
  ['bytes that are no msgpack', Uint8Array.from([0xc1]), 'inbox', 'undecodable', /./],
  ['another protocol version', raw({ v: 1 }), 'inbox', 'version', 'protocol version 1 is not 2'],
  ['an envelope without a body', raw({ b: undefined }), 'inbox', 'invalidEnvelope', 'b: required'],
  ['another cluster', raw({ c: 'c2' }), 'inbox', 'wrongCluster', 'cluster "c2"'],
  ['another group', raw({ g: 'g2' }), 'inbox', 'wrongGroup', 'group g2 from a'],
  ['an unknown kind', raw({ k: 'gossip' }), 'inbox', 'unknownKind', 'kind "gossip"'],
  [
    'a heartbeat on the broadcast topic',
    raw({ t: null }),
    'broadcast',
    'wrongTopic',
    'kind heartbeatRequest on the broadcast topic',
  ],
  [
    'a heartbeat on the reply topic',
    raw({}),
    'reply',
    'wrongTopic',
    'kind heartbeatRequest on the reply topic',
  ],
  ['a heartbeat to someone else', raw({ t: 'c' }), 'inbox', 'wrongAddressee', 'addressed to c'],
  [
    'a heartbeat to everyone on the inbox',
    raw({ t: null }),
    'inbox',
    'wrongAddressee',
    'addressed to everyone',
  ],
  [
    'a broadcast forward addressed to one member',
    raw({ k: 'forwardRequest', id: 'r1', t: 'b', b: { op: 'barrier' } }),
    'broadcast',
    'wrongAddressee',
    'addressed to b',
  ],
  [
    'a heartbeat without a term',
    raw({ b: { commit: 1, context: 0 } }),
    'inbox',
    'invalidBody',
    /^heartbeatRequest: term: /,
  ],
  [
    'an append with too many entries',
    raw({
      k: 'appendRequest',
      b: {
        term: 1,
        prevIndex: 0,
        prevTerm: 0,
        commit: 0,
        entries: new Array(MAX_ENTRIES_PER_APPEND + 1).fill(0),
      },
    }),
    'inbox',
    'tooManyEntries',
    `${MAX_ENTRIES_PER_APPEND + 1} entries exceeds ${MAX_ENTRIES_PER_APPEND}`,
  ],
  [
    'a multicast without recipients',
    raw({ t: null }),
    'multicast',
    'invalidBody',
    'r: not a list of 1 to 1024 recipients',
  ],
  [
    'a multicast with an empty list of recipients',
    raw({ t: null, b: { ...hb, r: [] } }),
    'multicast',
    'invalidBody',
    'r: not a list of 1 to 1024 recipients',
  ],
  [
    'a multicast to more recipients than a group can have',
    raw({ t: null, b: { ...hb, r: new Array(1025).fill('b') } }),
    'multicast',
    'invalidBody',
    'r: not a list of 1 to 1024 recipients',
  ],
  [
    'a multicast naming a recipient that cannot be a member id',
    raw({ t: null, b: { ...hb, r: ['b', 'x/y'] } }),
    'multicast',
    'invalidBody',
    'r: not a member id',
  ],
  [
    'a multicast addressed to one member',
    raw({ t: 'b', b: { ...hb, r: ['b'] } }),
    'multicast',
    'wrongAddressee',
    'addressed to b',
  ],
  [
    'a vote request on the multicast topic',
    raw({ k: 'voteRequest', t: null, b: { ...hb, r: ['b'] } }),
    'multicast',
    'wrongTopic',
    'kind voteRequest on the multicast topic',
  ],
  [
    'a multicast for other members',
    raw({ t: null, b: { ...hb, r: ['c', 'd'] } }),
    'multicast',
    'notRecipient',
    'a multicast for other members',
  ],
  [
    'our own multicast, sent back by the broker',
    raw({ f: 'b', t: null, b: { ...hb, r: ['c', 'd'] } }),
    'multicast',
    'ownMulticast',
    'our own multicast',
  ],
  [
    'a forward answer without its fields',
    raw({ k: 'forwardResponse', id: 'r', b: {} }),
    'reply',
    'invalidBody',
    /^forwardResponse: /,
  ],
];

describe('decoding a received payload', () => {
  it.each(REFUSED)('refuses %s', (_name, payload, role, reason, detail) => {
    const result = decodeInbound(payload, role, { ...ctx, maxBytes: ctx.maxBytes });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe(reason);
    if (typeof detail === 'string') expect(result.detail).toBe(detail);
    else expect(result.detail).toMatch(detail);
  });

  it('reads a multicast naming this member as a message addressed to it, without the recipients', () => {
    const payload = raw({ t: null, b: { ...hb, r: ['c', 'b', 'd'] } });
    expect(decodeInbound(payload, 'multicast', ctx)).toEqual({
      ok: true,
      inbound: { kind: 'message', message: { ...heartbeat('a', 'b', 1), term: 2 } },
    });
  });

  it('counts entries of an append at the limit as allowed', () => {
    const entries = Array.from({ length: MAX_ENTRIES_PER_APPEND }, (_, i) => ({
      index: i + 1,
      term: 1,
      type: 'command',
      data: new Uint8Array(0),
    }));
    const payload = raw({
      k: 'appendRequest',
      b: { term: 1, prevIndex: 0, prevTerm: 0, commit: 0, entries },
    });
    const result = decodeInbound(payload, 'inbox', { ...ctx, maxBytes: 10_000_000 });
    expect(result.ok).toBe(true);
  });

  it('names the foreign group and its sender, so the receiver can report a second group', () => {
    expect(decodeInbound(raw({ g: 'g2' }), 'inbox', ctx)).toEqual({
      ok: false,
      reason: 'wrongGroup',
      detail: 'group g2 from a',
      foreign: { from: 'a', group: 'g2' },
    });
  });

  it('accepts an envelope of no group, any group when it has none, and probes of every group', () => {
    expect(decodeInbound(raw({}), 'inbox', ctx).ok).toBe(true);
    expect(decodeInbound(raw({ g: '' }), 'inbox', ctx).ok).toBe(true);
    expect(decodeInbound(raw({ g: 'g9' }), 'inbox', { ...ctx, group: '' }).ok).toBe(true);
    expect(decodeInbound(raw({ g: 'g9' }), 'inbox', { cluster: 'c1', localId: 'b', maxBytes: 4096 }).ok).toBe(
      true,
    );
    const probe = raw({ k: 'probe', id: 'p1', t: null, g: 'g9', b: { token: 't', group: 'g9' } });
    const decoded = decodeInbound(probe, 'broadcast', ctx);
    expect(decoded.ok ? decoded.inbound.kind : decoded.reason).toBe('probe');
  });

  it('accepts a payload of exactly the limit', () => {
    const payload = raw({});
    const result = decodeInbound(payload, 'inbox', { ...ctx, maxBytes: payload.byteLength });
    expect(result.ok).toBe(true);
  });
});

describe('encoding an envelope', () => {
  it('stamps the group only when there is one', () => {
    const envelope = messageEnvelope('c1', heartbeat('a', 'b', 1));
    const plain = encodeEnvelope(envelope);
    const stamped = encodeEnvelope(envelope, 'g1');
    expect(decodeInbound(plain, 'inbox', { ...ctx, group: '' }).ok).toBe(true);
    expect(decodeInbound(stamped, 'inbox', ctx).ok).toBe(true);
    expect(decodeInbound(stamped, 'inbox', { ...ctx, group: 'g2' })).toMatchObject({ reason: 'wrongGroup' });
    // Without a group the envelope carries no g field at all.
    expect(Buffer.from(plain).includes(Buffer.from([0xa1, 0x67]))).toBe(false);
    expect(Buffer.from(stamped).includes(Buffer.from([0xa1, 0x67]))).toBe(true);
  });

  it('refuses to build a batch of fewer than 2 or more than the most envelopes', () => {
    const item = { k: 'heartbeatRequest' as const, id: '', body: msgpackEncode(hb) };
    const header = { f: 'a', t: 'b', c: 'c1' };
    expect(() => encodeBatch(header, [item])).toThrow('a batch holds 2 to 256 envelopes, not 1');
    expect(() => encodeBatch(header, new Array(MAX_BATCH_ITEMS + 1).fill(item))).toThrow(
      `a batch holds 2 to ${MAX_BATCH_ITEMS} envelopes, not ${MAX_BATCH_ITEMS + 1}`,
    );
    const full = decodeInbound(encodeBatch(header, new Array(MAX_BATCH_ITEMS).fill(item)), 'inbox', {
      ...ctx,
      maxBytes: 1_000_000,
    });
    expect(full.ok && full.inbound.kind === 'batch' ? full.inbound.items.length : 0).toBe(MAX_BATCH_ITEMS);
  });
});

describe('batches as received', () => {
  const header = { f: 'a', t: 'b', c: 'c1' };
  const item = [['heartbeatRequest', '', msgpackEncode(hb)]];

  it.each([
    ['one item', item, 'batch: not an array of 2 to 256 envelopes'],
    [
      'too many items',
      new Array(MAX_BATCH_ITEMS + 1).fill(item[0]),
      'batch: not an array of 2 to 256 envelopes',
    ],
  ])('refuses a batch of %s', (_name, items, detail) => {
    const payload = encodeWithBody({ k: 'batch', id: '', ...header }, msgpackEncode(items));
    expect(decodeInbound(payload, 'inbox', { ...ctx, maxBytes: 1_000_000 })).toMatchObject({
      ok: false,
      reason: 'invalidBody',
      detail,
    });
  });

  it('refuses a batch to someone else, to everyone, or on the broadcast topic', () => {
    const two = msgpackEncode([item[0], item[0]]);
    const to = (t: string | null) => encodeWithBody({ k: 'batch', id: '', ...header, t }, two);
    expect(decodeInbound(to('c'), 'inbox', ctx)).toMatchObject({
      reason: 'wrongAddressee',
      detail: 'addressed to c',
    });
    expect(decodeInbound(to(null), 'inbox', ctx)).toMatchObject({
      reason: 'wrongAddressee',
      detail: 'addressed to everyone',
    });
    expect(decodeInbound(to(null), 'broadcast', ctx)).toMatchObject({
      reason: 'wrongTopic',
      detail: 'kind batch on the broadcast topic',
    });
  });

  it('judges each malformed item alone, naming what is wrong', () => {
    const good = item[0];
    const items = [
      good,
      ['heartbeatRequest', ''],
      ['heartbeatRequest', 'x'.repeat(1000), msgpackEncode(hb)],
      [7, '', msgpackEncode(hb)],
      ['heartbeatRequest', '', 'not bytes'],
      ['hello', '', msgpackEncode({})],
      ['heartbeatRequest', '', Uint8Array.from([0xc1])],
      'not an item',
    ];
    const result = decodeInbound(
      encodeWithBody({ k: 'batch', id: '', ...header }, msgpackEncode(items)),
      'inbox',
      {
        ...ctx,
        maxBytes: 1_000_000,
      },
    );
    if (!result.ok || result.inbound.kind !== 'batch') throw new Error('expected a batch');
    const outcomes = result.inbound.items.map((r) => (r.ok ? 'ok' : `${r.reason}: ${r.detail}`));
    expect(outcomes.slice(0, 6)).toEqual([
      'ok',
      'invalidBody: batch: an item is not [k, id, body]',
      'invalidBody: batch: an item is not [k, id, body]',
      'invalidBody: batch: an item is not [k, id, body]',
      'invalidBody: batch: an item is not [k, id, body]',
      'wrongTopic: kind "hello" in a batch',
    ]);
    expect(outcomes[6]).toMatch(/^undecodable: batch item heartbeatRequest: ./);
    expect(outcomes[7]).toBe('invalidBody: batch: an item is not [k, id, body]');
  });
});

describe('firstIssue', () => {
  it('names the path of the first problem, or only its message at the top, or says invalid', () => {
    expect(firstIssue({ issues: [{ path: ['a', 0], message: 'bad' }] })).toBe('a.0: bad');
    expect(firstIssue({ issues: [{ path: [], message: 'bad' }] })).toBe('bad');
    expect(firstIssue({ issues: [] })).toBe('invalid');
  });
});
