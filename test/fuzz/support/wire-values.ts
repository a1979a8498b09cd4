/**
 * Valid envelopes of every kind the MQTT transport receives (docs/protocol.md §3), as values
 * before encoding, each with the topic role it is accepted on. Mutating these gives inputs that get
 * past the first checks and reach each body schema and each control handler.
 */
import fc from 'fast-check';
import { encodeConfiguration } from '../../../src/core/configuration.js';
import { msgpackEncode } from '../../../src/msgpack.js';
import type { EnvelopeKind, OutboundEnvelope } from '../../../src/transport/mqtt-codec.js';
import type { TopicRole } from '../../../src/transport/mqtt-topics.js';

/** The cluster and the receiving member of every fuzzed envelope. */
export const CLUSTER = 'fuzz';
export const RECEIVER = 'b';
export const GROUP = 'g1';

const term = fc.oneof(fc.nat({ max: 20 }), fc.maxSafeInteger());
const index = fc.oneof(fc.nat({ max: 50 }), fc.maxSafeInteger());
const sender = fc.constantFrom('a', 'c', 'z');
const bytes = fc.uint8Array({ maxLength: 48 });

const configuration = fc.record({
  servers: fc.array(
    fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd'),
      suffrage: fc.constantFrom('voter', 'nonvoter', 'staging'),
    }),
    { maxLength: 4 },
  ),
});

const entry = fc.oneof(
  fc.record({ index, term, type: fc.constantFrom('command', 'noop', 'barrier'), data: bytes }),
  fc.record({
    index,
    term,
    type: fc.constant('config'),
    data: configuration.map((c) => encodeConfiguration(c as Parameters<typeof encodeConfiguration>[0])),
  }),
);

const snapshotMeta = fc.record({ index, term, config: configuration, configIndex: index });

const wireError = fc.record({
  code: fc.constantFrom('NOT_LEADER', 'TIMEOUT', 'SOMETHING_NEW'),
  message: fc.string({ maxLength: 20 }),
  retryable: fc.boolean(),
  indefinite: fc.boolean(),
  leader: fc.constantFrom(null, 'a'),
});

const forwardBase = { origin: sender, incarnation: fc.string({ minLength: 1, maxLength: 8 }), seq: index };

/** The body of each kind but `batch`, and the role of the topic it arrives on. */
const SINGLE_BODIES: {
  readonly [K in Exclude<EnvelopeKind, 'batch'>]: readonly [TopicRole, fc.Arbitrary<unknown>];
} = {
  voteRequest: [
    'inbox',
    fc.record({
      term,
      preVote: fc.boolean(),
      lastLogIndex: index,
      lastLogTerm: term,
      transfer: fc.boolean(),
    }),
  ],
  voteResponse: ['inbox', fc.record({ term, preVote: fc.boolean(), granted: fc.boolean() })],
  appendRequest: [
    'inbox',
    fc.record({
      term,
      prevIndex: index,
      prevTerm: term,
      entries: fc.array(entry, { maxLength: 4 }),
      commit: index,
    }),
  ],
  appendResponse: [
    'inbox',
    fc.record({ term, success: fc.boolean(), index, hintIndex: index, hintTerm: term }),
  ],
  heartbeatRequest: ['inbox', fc.record({ term, commit: index, context: index })],
  heartbeatResponse: ['inbox', fc.record({ term, context: index })],
  snapshotRequest: ['inbox', fc.record({ term, snapshot: snapshotMeta })],
  timeoutNow: ['inbox', fc.record({ term })],
  readIndexRequest: ['inbox', fc.record({ term, requestId: index })],
  readIndexResponse: ['inbox', fc.record({ term, requestId: index, ok: fc.boolean(), index })],
  forwardRequest: [
    'inbox',
    fc.oneof(
      fc.record({ kind: fc.constant('apply'), ...forwardBase, data: bytes }),
      fc.record({ kind: fc.constant('barrier'), ...forwardBase }),
      fc.record({ kind: fc.constantFrom('addVoter', 'removeServer'), ...forwardBase, id: sender }),
    ),
  ],
  forwardResponse: [
    'reply',
    fc.oneof(
      fc.record({ ok: fc.constant(true), index }),
      fc.record({ ok: fc.constant(false), error: wireError }),
    ),
  ],
  snapshotBegin: ['inbox', fc.record({ term, snapshot: snapshotMeta })],
  snapshotChunk: ['inbox', fc.record({ seq: index, data: bytes, last: fc.boolean() })],
  snapshotCancel: ['inbox', fc.record({ error: wireError })],
  snapshotAck: ['reply', fc.record({ next: index })],
  snapshotResult: [
    'reply',
    fc.oneof(fc.record({ ok: fc.constant(true) }), fc.record({ ok: fc.constant(false), error: wireError })),
  ],
  hello: ['inbox', fc.record({ token: fc.string({ maxLength: 12 }) })],
  probe: ['broadcast', fc.record({ token: fc.string({ maxLength: 12 }), group: fc.constantFrom('', GROUP) })],
  probeAnswer: [
    'reply',
    fc.record({ token: fc.string({ maxLength: 12 }), group: fc.constantFrom('', GROUP) }),
  ],
};

/** Kinds a batch on the inbox may carry (docs/protocol.md §3, "Batches"). */
const INBOX_BATCHABLE = (Object.keys(SINGLE_BODIES) as Array<keyof typeof SINGLE_BODIES>).filter(
  (k) =>
    SINGLE_BODIES[k][0] === 'inbox' &&
    !['snapshotBegin', 'snapshotChunk', 'snapshotCancel', 'hello'].includes(k),
);

/** A batch body: `[k, id, body]` items, each body msgpack-encoded, of kinds a batch may carry. */
const batchBody = fc.array(
  fc.constantFrom(...INBOX_BATCHABLE).chain((k) =>
    fc.tuple(
      fc.constant(k),
      fc.constantFrom('', 't-1'),
      SINGLE_BODIES[k][1].map((b) => msgpackEncode(b)),
    ),
  ),
  { minLength: 2, maxLength: 4 },
);

const BODIES: { readonly [K in EnvelopeKind]: readonly [TopicRole, fc.Arbitrary<unknown>] } = {
  ...SINGLE_BODIES,
  batch: ['inbox', batchBody],
};

/** An envelope as the sender builds it, and the role of the topic it is published on. */
export interface WireCase {
  readonly role: TopicRole;
  readonly envelope: OutboundEnvelope;
}

/** A valid envelope of any kind, addressed to {@link RECEIVER} (or to everyone, on the broadcast topic). */
export const wireCase: fc.Arbitrary<WireCase> = fc.oneof(
  ...(Object.entries(BODIES) as [EnvelopeKind, readonly [TopicRole, fc.Arbitrary<unknown>]][]).map(
    ([k, [role, body]]) =>
      fc.record({ id: fc.constantFrom('', 't-1', 'x'), f: sender, b: body }).map(
        ({ id, f, b }): WireCase => ({
          role,
          envelope: { k, id, f, t: role === 'broadcast' ? null : RECEIVER, c: CLUSTER, b },
        }),
      ),
  ),
);
