import { z } from 'zod';
import type { Message, MessageType } from '../core/types.js';
import type { RaftErrorCode } from '../errors.js';
import { MAX_NAME_LENGTH, nameProblem } from './mqtt-topics.js';
import type { ForwardRequest, ForwardResponse, WireError } from './types.js';

/**
 * Zod schemas of everything the MQTT transport receives (docs/protocol.md). Objects strip unknown
 * fields instead of refusing them, so a newer peer may add fields without a new protocol version.
 */

/** The only envelope version this transport speaks. */
export const PROTOCOL_VERSION = 2;

/** A non-negative safe integer: terms, indexes, sequence numbers. */
const uint = z.int().min(0);
const bytes = z.instanceof(Uint8Array);

/** A member id as it may appear in a topic (see mqtt-topics.ts). */
export const nodeIdSchema = z.string().superRefine((id, ctx) => {
  const problem = nameProblem(id);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/** Correlation ids and transfer ids: opaque, short strings. */
const correlationIdSchema = z.string().max(2 * MAX_NAME_LENGTH);

/** A group id: random, chosen at bootstrap (see src/binding/group-identity.ts). */
export const groupIdSchema = z.string().max(64);

/** The outer layer of every payload. `b` is checked against the schema of kind `k`. */
export const envelopeSchema = z.object({
  v: z.literal(PROTOCOL_VERSION),
  k: z.string(),
  id: correlationIdSchema,
  f: nodeIdSchema,
  t: nodeIdSchema.nullable(),
  c: z.string(),
  /** Group id (docs/protocol.md §3); absent or '' from a member that has none yet. */
  g: groupIdSchema.optional(),
  /** Required unless sealed (checked with the seal, see mqtt-codec.ts). */
  b: z.unknown().optional(),
  /** Sealed envelopes (docs/protocol.md §3): sender incarnation, counter, sealed body in place of `b`. */
  s: bytes.optional(),
  n: z.int().min(1).optional(),
  x: bytes.optional(),
});

/** A decoded, valid envelope. */
export type Envelope = z.infer<typeof envelopeSchema>;

// --- core messages -------------------------------------------------------------------------

const configurationSchema = z.object({
  servers: z.array(z.object({ id: z.string().min(1), suffrage: z.enum(['voter', 'nonvoter', 'staging']) })),
});

const snapshotMetaSchema = z.object({
  index: uint,
  term: uint,
  config: configurationSchema,
  configIndex: uint,
});

const entrySchema = z.object({
  index: uint,
  term: uint,
  type: z.enum(['command', 'noop', 'config', 'barrier']),
  data: bytes,
});

/** A core message without the fields the envelope carries (`type` is `k`, `from` is `f`, `to` is `t`). */
export type MessageBody<K extends MessageType> = Omit<Extract<Message, { type: K }>, 'type' | 'from' | 'to'>;

/** The body schema of every core message kind; the mapped type fails to compile when the core adds a kind. */
export const messageBodySchemas = {
  voteRequest: z.object({
    term: uint,
    preVote: z.boolean(),
    lastLogIndex: uint,
    lastLogTerm: uint,
    transfer: z.boolean(),
  }),
  voteResponse: z.object({ term: uint, preVote: z.boolean(), granted: z.boolean() }),
  appendRequest: z.object({
    term: uint,
    prevIndex: uint,
    prevTerm: uint,
    entries: z.array(entrySchema),
    commit: uint,
  }),
  appendResponse: z.object({
    term: uint,
    success: z.boolean(),
    index: uint,
    hintIndex: uint,
    hintTerm: uint,
  }),
  heartbeatRequest: z.object({ term: uint, commit: uint, context: uint }),
  heartbeatResponse: z.object({ term: uint, context: uint }),
  snapshotRequest: z.object({ term: uint, snapshot: snapshotMetaSchema }),
  timeoutNow: z.object({ term: uint }),
  readIndexRequest: z.object({ term: uint, requestId: uint }),
  readIndexResponse: z.object({ term: uint, requestId: uint, ok: z.boolean(), index: uint }),
} satisfies { [K in MessageType]: z.ZodType<MessageBody<K>> };

/** True when `kind` names a core message. */
export function isMessageKind(kind: string): kind is MessageType {
  return Object.hasOwn(messageBodySchemas, kind);
}

// --- errors and forwarding ------------------------------------------------------------------

const CODE_SET: Record<RaftErrorCode, true> = {
  NOT_LEADER: true,
  LEADERSHIP_LOST: true,
  TIMEOUT: true,
  SHUTDOWN: true,
  INVALID_INPUT: true,
  INVALID_CONFIG: true,
  CORRUPTION: true,
  UNREACHABLE: true,
  OBSERVER_OVERFLOW: true,
  TRANSFER_IN_PROGRESS: true,
  CONFIG_CHANGE_IN_PROGRESS: true,
  CONFIGURATION_CHANGED: true,
  UNSUPPORTED: true,
  EXPIRED: true,
  REMOVED: true,
  CONFLICT: true,
};

/** An error code; one this version does not know (from a newer peer) reads as `UNREACHABLE`. */
const errorCodeSchema = z
  .string()
  .transform(
    (code): RaftErrorCode => (Object.hasOwn(CODE_SET, code) ? (code as RaftErrorCode) : 'UNREACHABLE'),
  );

export const wireErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
  indefinite: z.boolean(),
  leader: nodeIdSchema.nullable(),
}) satisfies z.ZodType<WireError>;

const forwardBase = { origin: nodeIdSchema, incarnation: z.string().min(1).max(64), seq: uint };

export const forwardRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('apply'), ...forwardBase, data: bytes }),
  z.object({ kind: z.literal('barrier'), ...forwardBase }),
  z.object({
    kind: z.enum(['addVoter', 'addNonvoter', 'demoteVoter', 'removeServer']),
    ...forwardBase,
    id: nodeIdSchema,
    prevIndex: uint.exactOptional(),
  }),
]) satisfies z.ZodType<ForwardRequest>;

export const forwardResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), index: uint, response: z.unknown().exactOptional() }),
  z.object({ ok: z.literal(false), error: wireErrorSchema }),
]) satisfies z.ZodType<ForwardResponse>;

// --- snapshots and presence ---------------------------------------------------------------

/** Opens a transfer: the snapshot request without `type`, `from`, `to`. */
export const snapshotBeginSchema = messageBodySchemas.snapshotRequest;

/** One piece of a transfer's data; `seq` counts from 0, `last` marks the final piece. */
export const snapshotChunkSchema = z.object({ seq: uint, data: bytes, last: z.boolean() });

/** The sender gave up on a transfer. */
export const snapshotCancelSchema = z.object({ error: wireErrorSchema });

/** The receiver has handed chunks 0 … next-1 to its node: the sender may have `window` more in flight. */
export const snapshotAckSchema = z.object({ next: uint });

/** The receiver's final word on a transfer. */
export const snapshotResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: wireErrorSchema }),
]);

/** Presence of one transport instance on its own inbox, to detect two processes with one member id. */
export const helloSchema = z.object({ token: z.string().max(2 * MAX_NAME_LENGTH) });

/** Asks every live member under the cluster name to answer (broadcast topic); `token` is the prober's instance. */
export const probeSchema = z.object({ token: z.string().max(2 * MAX_NAME_LENGTH), group: groupIdSchema });

/** A live member's answer to a probe (prober's reply topic). */
export const probeAnswerSchema = probeSchema;

/** Every kind this version understands that is not a core message. */
export const controlSchemas = {
  forwardRequest: forwardRequestSchema,
  forwardResponse: forwardResponseSchema,
  snapshotBegin: snapshotBeginSchema,
  snapshotChunk: snapshotChunkSchema,
  snapshotCancel: snapshotCancelSchema,
  snapshotAck: snapshotAckSchema,
  snapshotResult: snapshotResultSchema,
  hello: helloSchema,
  probe: probeSchema,
  probeAnswer: probeAnswerSchema,
};

/** The kinds of control envelopes. */
export type ControlKind = keyof typeof controlSchemas;

/** The validated body of a control envelope of kind `K`. */
export type ControlBody<K extends ControlKind> = z.infer<(typeof controlSchemas)[K]>;

/** True when `kind` names a control envelope. */
export function isControlKind(kind: string): kind is ControlKind {
  return Object.hasOwn(controlSchemas, kind);
}
