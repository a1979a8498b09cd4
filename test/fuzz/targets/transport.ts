/**
 * Fuzz targets of what the MQTT transport receives: payloads fed through the transport's real
 * inbound handler (decoding, then forwards, snapshot transfers, presence and discovery), without
 * and with a group key, and the replay window of sealed envelopes.
 */
import assert from 'node:assert/strict';
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import fc from 'fast-check';
import { msgpackDecode } from '../../../src/msgpack.js';
import { MqttTransport, type MqttTransportOptions } from '../../../src/transport/index.js';
import {
  type DecodeContext,
  type DecodeResult,
  decodeInbound,
  encodeEnvelope,
  type Inbound,
  messageEnvelope,
  type OutboundEnvelope,
} from '../../../src/transport/mqtt-codec.js';
import { EnvelopeSeal } from '../../../src/transport/mqtt-seal.js';
import type { MqttTransportStats } from '../../../src/transport/mqtt-stats.js';
import { type TopicRole, Topics } from '../../../src/transport/mqtt-topics.js';
import { hostileMsgpack } from '../support/arbitraries.js';
import type { AnyTarget, FuzzTarget, Outcome } from '../support/target.js';
import { CLUSTER, GROUP, RECEIVER, type WireCase, wireCase } from '../support/wire-values.js';

/** One payload on one of the receiver's topics; `original` is the valid payload it was made from, if any. */
export interface Delivery {
  readonly role: TopicRole;
  readonly payload: Uint8Array;
  readonly original?: Uint8Array;
}

const MAX_BYTES = 8 * 1024 * 1024;
const topics = new Topics('mqtt-raft', CLUSTER, RECEIVER);
const TOPIC_OF: Record<TopicRole, string> = {
  inbox: topics.inbox,
  reply: topics.reply,
  broadcast: topics.broadcast,
  multicast: topics.multicast,
};

/** The transport's inbound handler, which the MQTT connection calls for every publish. */
interface Inside {
  handler: unknown;
  onPayload(topic: string, payload: Uint8Array, retained: boolean): void;
}

const idleHandler = {
  onMessage: () => undefined,
  onSnapshot: async (_request: unknown, chunks: AsyncIterable<Uint8Array>) => {
    for await (const _ of chunks) void _;
  },
  onForward: async () => ({
    ok: false as const,
    error: { code: 'NOT_LEADER' as const, message: 'no', retryable: true, indefinite: false, leader: null },
  }),
};

/**
 * A transport that is never connected, with `idleHandler` installed as `start` would: its
 * `onPayload` is the one the broker connection calls, so everything after the socket runs for real.
 */
function receivingTransport(options: Partial<MqttTransportOptions> = {}): {
  transport: MqttTransport;
  inside: Inside;
} {
  const transport = new MqttTransport({
    localId: RECEIVER,
    url: 'mqtt://127.0.0.1:1',
    cluster: CLUSTER,
    group: GROUP,
    ...options,
  });
  const inside = transport as unknown as Inside;
  assert.equal(
    typeof inside.onPayload,
    'function',
    'MqttTransport no longer has onPayload: update the fuzz harness',
  );
  inside.handler = idleHandler;
  return { transport, inside };
}

/** The envelope an accepted inbound (not a batch) would be sent as. */
function outboundOf(inbound: Exclude<Inbound, { kind: 'batch' }>): OutboundEnvelope {
  if (inbound.kind === 'message') return messageEnvelope(CLUSTER, inbound.message);
  return { k: inbound.kind, id: inbound.id, f: inbound.from, t: inbound.to, c: CLUSTER, b: inbound.body };
}

/** The envelopes a verdict stands for: a batch's items, or the verdict itself. */
function verdictsOf(verdict: DecodeResult): DecodeResult[] {
  return verdict.ok && verdict.inbound.kind === 'batch' ? [...verdict.inbound.items] : [verdict];
}

/** Hostile payloads made from valid envelopes (by default of every kind), each on the topic its kind belongs to. */
export function deliveries(
  encode: (c: WireCase) => Uint8Array,
  valid: fc.Arbitrary<WireCase> = wireCase,
): fc.Arbitrary<Delivery> {
  return valid.chain((c) => {
    const original = encode(c);
    const valid = fc.constant(msgpackDecode(original));
    return hostileMsgpack(valid).map((payload) => ({ role: c.role, payload, original }));
  });
}

/**
 * Feeds `d` through the transport's handler and checks it against `verdict` (what the decoder
 * said): a refusal is counted under its reason, an accepted message is handed to the node, and
 * nothing throws.
 */
function deliver(
  inside: Inside,
  stats: MqttTransportStats,
  d: Delivery,
  verdict: ReturnType<typeof decodeInbound>,
): Outcome {
  const dropped = stats.dropped;
  const received = stats.received;
  const verdicts = verdictsOf(verdict);
  const refusals = verdicts.flatMap((v) => (v.ok ? [] : [v.reason]));
  const before = new Map(refusals.map((r) => [r, stats.droppedReasons[r] ?? 0]));
  inside.onPayload(TOPIC_OF[d.role], d.payload, false);
  // An accepted envelope may still be dropped by its handler (a forged origin, a late answer).
  assert.ok(
    stats.dropped >= dropped + refusals.length,
    `refusals ${refusals.join(', ')} were not all counted`,
  );
  for (const [reason, count] of before) {
    assert.equal(stats.droppedReasons[reason], count + refusals.filter((r) => r === reason).length);
  }
  const messages = verdicts.filter((v) => v.ok && v.inbound.kind === 'message').length;
  assert.equal(stats.received, received + messages);
  return verdict.ok ? 'accepted' : 'rejected';
}

/** Without a group key. An accepted payload decodes to what its re-encoding decodes to. */
export function plainTarget(): FuzzTarget<Delivery> {
  const { transport, inside } = receivingTransport();
  const ctx: DecodeContext = { cluster: CLUSTER, group: GROUP, localId: RECEIVER, maxBytes: MAX_BYTES };
  return {
    name: 'transport: inbound payload, no group key',
    inputs: deliveries((c) => encodeEnvelope(c.envelope, GROUP)),
    size: (d) => d.payload.length,
    check(d) {
      const verdict = decodeInbound(d.payload, d.role, ctx, TOPIC_OF[d.role]);
      const outcome = deliver(inside, transport.stats, d, verdict);
      for (const item of verdictsOf(verdict)) {
        if (!item.ok || item.inbound.kind === 'batch') continue;
        const again = decodeInbound(
          encodeEnvelope(outboundOf(item.inbound), GROUP),
          d.role,
          ctx,
          TOPIC_OF[d.role],
        );
        assert.deepEqual(again, item);
      }
      return outcome;
    },
    close: () => transport.close(),
  };
}

/**
 * With a group key. The decoder's verdict comes from a second receiver with the same key, which
 * sees the same sequence. A payload that differs from the sealed original is accepted only if it
 * decodes to the same envelope (the seal covers every field).
 */
export function sealedTarget(): FuzzTarget<Delivery> {
  const key = cryptoRandomBytes(32);
  const sender = new EnvelopeSeal([key]);
  const { transport, inside } = receivingTransport({ groupKey: key });
  const ctx: DecodeContext = {
    cluster: CLUSTER,
    group: GROUP,
    localId: RECEIVER,
    maxBytes: MAX_BYTES,
    seal: new EnvelopeSeal([key]),
  };
  return {
    name: 'transport: inbound payload, sealed',
    inputs: deliveries((c) => encodeEnvelope(c.envelope, GROUP, { seal: sender, topic: TOPIC_OF[c.role] })),
    size: (d) => d.payload.length,
    check(d) {
      const verdict = decodeInbound(d.payload, d.role, ctx, TOPIC_OF[d.role]);
      const outcome = deliver(inside, transport.stats, d, verdict);
      if (verdict.ok && d.original !== undefined && !sameBytes(d.payload, d.original)) {
        assert.deepEqual(
          msgpackDecode(d.payload),
          msgpackDecode(d.original),
          'a changed envelope was accepted',
        );
      }
      return outcome;
    },
    close: () => transport.close(),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function transportTargets(): AnyTarget[] {
  return [plainTarget(), sealedTarget()];
}
