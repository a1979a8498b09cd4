import { MAX_ENTRIES_PER_APPEND } from '../core/peer-rules.js';
import type { Message, MessageType, NodeId } from '../core/types.js';
import { msgpackDecode, msgpackEncode } from '../msgpack.js';
import { fastEnvelope, firstIssue, readBody } from './mqtt-fast-checks.js';
import { type MulticastSkip, recipientCheck } from './mqtt-multicast.js';
import {
  type ControlBody,
  type ControlKind,
  controlSchemas,
  type Envelope,
  envelopeSchema,
  isControlKind,
  isMessageKind,
  messageBodySchemas,
  PROTOCOL_VERSION,
} from './mqtt-schemas.js';
import type { EnvelopeSeal, SealDropReason, SealHeader } from './mqtt-seal.js';
import { MAX_NAME_LENGTH, type TopicRole } from './mqtt-topics.js';

/**
 * The msgpack envelope of the MQTT transport: `{ v, k, id, f, t, c, g, b }`, or with a group key
 * `{ v, k, id, f, t, c, g, s, n, x }` (docs/protocol.md, "Envelope"). Encoding never validates (the node's own messages are trusted); decoding validates
 * everything and says why a payload is refused, so the transport can count and log it.
 */

/** Every kind of envelope. */
export type EnvelopeKind = MessageType | ControlKind | 'batch';

/** An envelope about to be sent. */
export interface OutboundEnvelope {
  readonly k: EnvelopeKind;
  /** Correlation or transfer id; '' when the kind has none. */
  readonly id: string;
  readonly f: NodeId;
  /** The addressee; null only for a broadcast. */
  readonly t: NodeId | null;
  readonly c: string;
  readonly b: unknown;
}

/** A valid control envelope, typed by kind. */
export type ControlInbound = {
  [K in ControlKind]: {
    readonly kind: K;
    readonly id: string;
    readonly from: NodeId;
    readonly to: NodeId | null;
    readonly body: ControlBody<K>;
  };
}[ControlKind];

/** One envelope that passed every check. */
export type SingleInbound = { readonly kind: 'message'; readonly message: Message } | ControlInbound;

/** A received payload that passed every check: one envelope, or a batch of them. */
export type Inbound = SingleInbound | BatchInbound;

/** A `batch` that passed the envelope checks: each of its envelopes judged on its own. */
export interface BatchInbound {
  readonly kind: 'batch';
  readonly from: NodeId;
  readonly items: readonly SingleResult[];
}

/** Why a received payload was refused. */
export type InboundDropReason =
  | 'oversized'
  | 'undecodable'
  | 'version'
  | 'invalidEnvelope'
  | 'wrongCluster'
  | 'wrongGroup'
  | 'unknownKind'
  | 'wrongTopic'
  | 'wrongAddressee'
  | 'invalidBody'
  | 'tooManyEntries'
  | 'unsealed'
  | 'sealedWithoutKey'
  | MulticastSkip
  | SealDropReason;

/** Why one received payload was refused. */
export interface Refusal {
  readonly ok: false;
  readonly reason: InboundDropReason;
  readonly detail: string;
  /** For `wrongGroup`: the sender and its group, so the receiver can report the second group. */
  readonly foreign?: { readonly from: NodeId; readonly group: string };
}

/** The outcome of {@link decodeInbound}. */
export type DecodeResult = SingleResult | BatchResult;

/** A batch whose envelope passed: its items are judged one by one. */
export interface BatchResult {
  readonly ok: true;
  readonly inbound: BatchInbound;
}

/** True when `result` is a batch (whose items are then to be handled one by one). */
export function isBatch(result: DecodeResult): result is BatchResult {
  return result.ok && result.inbound.kind === 'batch';
}

/** The outcome for one envelope: a batch holds no batch. */
export type SingleResult = { readonly ok: true; readonly inbound: SingleInbound } | Refusal;

/** What the receiver knows when it judges a payload. */
export interface DecodeContext {
  readonly cluster: string;
  /** This member's group id; '' or absent accepts every group. */
  readonly group?: string;
  readonly localId: NodeId;
  readonly maxBytes: number;
  /** With a group key: every envelope must be sealed, and is opened with this. */
  readonly seal?: EnvelopeSeal | undefined;
}

/** How to seal an envelope: with what, and for which topic (the topic is bound into the seal). */
export interface Sealing {
  readonly seal: EnvelopeSeal;
  readonly topic: string;
}

/**
 * Encodes an envelope with protocol version {@link PROTOCOL_VERSION}, stamped with `group` unless
 * it is '', and sealed when `sealing` is given.
 */
export function encodeEnvelope(envelope: OutboundEnvelope, group = '', sealing?: Sealing): Uint8Array {
  const { k, id, f, t, c } = envelope;
  return encodeWithBody({ k, id, f, t, c }, msgpackEncode(envelope.b), group, sealing);
}

/** An envelope's header: everything but the body. */
export type EnvelopeHeader = Omit<OutboundEnvelope, 'b'>;

/**
 * {@link encodeEnvelope} for a body already msgpack-encoded (`body`), as the outbox holds it: the
 * body's bytes are sealed as they are, or written into the envelope's map as the value of `b`.
 */
export function encodeWithBody(
  header: EnvelopeHeader,
  body: Uint8Array,
  group = '',
  sealing?: Sealing,
): Uint8Array {
  // Built field by field: spreading the rest of a destructured object into another cost more
  // (about 9 µs) than sealing a small body.
  const { k, id, f, t, c } = header;
  const v = PROTOCOL_VERSION;
  if (sealing === undefined) {
    const head = msgpackEncode(group === '' ? { v, k, id, f, t, c } : { v, k, id, f, t, c, g: group });
    return withField(head, 'b', body);
  }
  const { s, n, x } = sealing.seal.seal({ v, k, id, f, t, c, g: group, topic: sealing.topic }, body);
  return msgpackEncode(
    group === '' ? { v, k, id, f, t, c, s, n, x } : { v, k, id, f, t, c, g: group, s, n, x },
  );
}

/**
 * Appends the entry `key: value` (`value` already msgpack-encoded) to the encoded map `map`, whose
 * first byte is a fixmap header: msgpack is a concatenation of values, so only that header changes.
 */
function withField(map: Uint8Array, key: 'b', value: Uint8Array): Uint8Array {
  const header = map[0] ?? 0;
  // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: a guard against a future header of more fields; every header written today is a fixmap of 6 to 10
  if (header < 0x80 || header >= 0x8f)
    throw new RangeError('an envelope header must encode as a fixmap of at most 14 entries');
  const out = new Uint8Array(map.byteLength + 2 + value.byteLength);
  out.set(map);
  out[0] = header + 1;
  out[map.byteLength] = 0xa1; // fixstr of length 1
  out[map.byteLength + 1] = key.charCodeAt(0);
  out.set(value, map.byteLength + 2);
  return out;
}

/** One envelope of a batch: its kind, id and msgpack-encoded body (addressee and sender are the batch's). */
export interface BatchItem {
  readonly k: EnvelopeKind;
  readonly id: string;
  readonly body: Uint8Array;
}

/** Envelopes at most in one `batch` (docs/protocol.md §3, "Batches"); more are refused. */
export const MAX_BATCH_ITEMS = 256;
/** The longest id an envelope may carry (as `correlationIdSchema` in mqtt-schemas.ts). */
const MAX_BATCH_ID_LENGTH = 2 * MAX_NAME_LENGTH;

/**
 * Encodes several envelopes for one topic as one `batch` envelope: its body is the array of
 * `[k, id, body]` with each body as msgpack bin, so it is sealed (and opened) once for all of them.
 */
export function encodeBatch(
  header: Pick<EnvelopeHeader, 'f' | 't' | 'c'>,
  items: readonly BatchItem[],
  group = '',
  sealing?: Sealing,
): Uint8Array {
  if (items.length < 2 || items.length > MAX_BATCH_ITEMS) {
    throw new RangeError(`a batch holds 2 to ${MAX_BATCH_ITEMS} envelopes, not ${items.length}`);
  }
  const body = msgpackEncode(items.map((item) => [item.k, item.id, item.body]));
  return encodeWithBody({ k: 'batch', id: '', ...header }, body, group, sealing);
}

/** The envelope of a core message: the message's own fields, minus `type`, `from` and `to`, are the body. */
export function messageEnvelope(cluster: string, message: Message): OutboundEnvelope {
  const { type, from, to, ...body } = message;
  return { k: type, id: '', f: from, t: to, c: cluster, b: body };
}

/** Kinds accepted on each topic; anything else on that topic is `wrongTopic`. */
function acceptedOn(role: TopicRole, kind: EnvelopeKind): boolean {
  switch (role) {
    case 'inbox':
      return (
        isMessageKind(kind) ||
        kind === 'forwardRequest' ||
        kind === 'snapshotBegin' ||
        kind === 'snapshotChunk' ||
        kind === 'snapshotCancel' ||
        kind === 'hello' ||
        kind === 'batch'
      );
    case 'reply':
      return (
        kind === 'forwardResponse' ||
        kind === 'snapshotAck' ||
        kind === 'snapshotResult' ||
        kind === 'probeAnswer' ||
        kind === 'batch'
      );
    case 'broadcast':
      return kind === 'forwardRequest' || kind === 'probe';
    case 'multicast':
      return kind === 'appendRequest' || kind === 'heartbeatRequest' || kind === 'batch';
  }
}

function refuse(reason: InboundDropReason, detail: string): Refusal {
  return { ok: false, reason, detail };
}

/** True when an envelope of group `g`, of kind `k`, belongs to another group than `group`. */
function foreignGroup(group: string, g: string | undefined, k: string): boolean {
  // Probes are how members of no group yet find one: every group must see and answer them.
  if (k === 'probe' || k === 'probeAnswer') return false;
  return group !== '' && g !== undefined && g !== '' && g !== group;
}

/**
 * With a group key: authenticates the envelope (and refuses a replay) and decodes its sealed body.
 * Without one: refuses a sealed envelope, which it could not check. Returns the raw body or a refusal.
 */
function unseal(
  envelope: Envelope,
  topic: string,
  seal: EnvelopeSeal | undefined,
): { ok: true; body: unknown } | Refusal {
  const { v, k, id, f, t, c, g, b, s, n, x } = envelope;
  if (seal === undefined) {
    if (x !== undefined) return refuse('sealedWithoutKey', `kind ${k} from ${f}`);
    if (b === undefined) return refuse('invalidEnvelope', 'b: required');
    return { ok: true, body: b };
  }
  if (s === undefined || n === undefined || x === undefined) return refuse('unsealed', `kind ${k} from ${f}`);
  const header: SealHeader = { v, k, id, f, t, c, g: g ?? '', topic };
  const opened = seal.open(header, { s, n, x });
  if (!opened.ok) return refuse(opened.reason, opened.detail);
  try {
    return { ok: true, body: msgpackDecode(opened.body) };
  } catch (err) {
    return refuse('undecodable', `sealed body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Decodes and validates a payload received on `topic` (`role`). Checks, in order: size, msgpack,
 * version, envelope shape, seal (with a group key: authenticity and replay, before the body is
 * decoded), cluster, group, kind, topic, addressee, body. Never throws.
 */
export function decodeInbound(
  payload: Uint8Array,
  role: TopicRole,
  ctx: DecodeContext,
  topic = '',
): DecodeResult {
  if (payload.byteLength > ctx.maxBytes) {
    return refuse('oversized', `${payload.byteLength} bytes exceeds the limit of ${ctx.maxBytes}`);
  }
  let raw: unknown;
  try {
    // A plain view: binary fields then decode as Uint8Array views, never as Node Buffers.
    raw = msgpackDecode(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
  } catch (err) {
    return refuse('undecodable', err instanceof Error ? err.message : String(err));
  }
  if (typeof raw === 'object' && raw !== null && 'v' in raw && raw.v !== PROTOCOL_VERSION) {
    return refuse('version', `protocol version ${String(raw.v)} is not ${PROTOCOL_VERSION}`);
  }
  let envelope = fastEnvelope(raw);
  if (envelope === null) {
    const parsed = envelopeSchema.safeParse(raw);
    if (!parsed.success) return refuse('invalidEnvelope', firstIssue(parsed.error));
    envelope = parsed.data;
  }
  // Before the seal is opened: a leader receives each of its multicasts back, and opening them
  // would cost it a cipher pass per publish. A forger naming us as sender gains nothing by it.
  if (role === 'multicast' && envelope.f === ctx.localId) return refuse('ownMulticast', 'our own multicast');
  const opened = unseal(envelope, topic, ctx.seal);
  if (!opened.ok) return opened;
  const b = opened.body;
  const { k, id, f, t, c, g } = envelope;
  if (c !== ctx.cluster) return refuse('wrongCluster', `cluster ${JSON.stringify(c)}`);
  if (foreignGroup(ctx.group ?? '', g, k)) {
    const group = g as string;
    return {
      ok: false,
      reason: 'wrongGroup',
      detail: `group ${group} from ${f}`,
      foreign: { from: f, group },
    };
  }
  const route: Route = { f, t, role };
  if (k === 'batch') return judgeBatch(b, route, ctx);
  return judge(k, id, b, route, ctx);
}

/** Who sent an envelope, to whom, and on which topic it came. */
interface Route {
  readonly f: NodeId;
  readonly t: NodeId | null;
  readonly role: TopicRole;
}

/**
 * Whether an envelope on `role`'s topic is for this member: on an inbox or reply topic addressed to
 * it (`t`), on the broadcast and multicast topics addressed to no one (a multicast names its
 * recipients in its body).
 */
function addressedToUs(role: TopicRole, t: NodeId | null, localId: NodeId): boolean {
  return role === 'broadcast' || role === 'multicast' ? t === null : t === localId;
}

/** Checks one envelope's kind, topic, addressee and body, all it has left once its envelope passed. */
function judge(k: string, id: string, b: unknown, { f, t, role }: Route, ctx: DecodeContext): SingleResult {
  if (!isMessageKind(k) && !isControlKind(k)) return refuse('unknownKind', `kind ${JSON.stringify(k)}`);
  if (!acceptedOn(role, k)) return refuse('wrongTopic', `kind ${k} on the ${role} topic`);
  if (!addressedToUs(role, t, ctx.localId))
    return refuse('wrongAddressee', `addressed to ${t === null ? 'everyone' : t}`);
  if (role === 'multicast') {
    const problem = recipientCheck(b, ctx.localId);
    if (problem !== null) return refuse(problem.reason, problem.detail);
  }
  if (isMessageKind(k)) {
    // Counted before the schema walks them: validating half a million tiny entries blocked the
    // event loop for most of a second (design §7: bound what one message makes us do).
    if (k === 'appendRequest' && entryCount(b) > MAX_ENTRIES_PER_APPEND)
      return refuse('tooManyEntries', `${entryCount(b)} entries exceeds ${MAX_ENTRIES_PER_APPEND}`);
    const body = readBody(k, b, messageBodySchemas[k]);
    if (typeof body === 'string') return refuse('invalidBody', body);
    // Addressed to us: by `t` on the inbox, by the recipients of a multicast (`r`, not kept).
    const message = { ...body, type: k, from: f, to: ctx.localId } as Message;
    return { ok: true, inbound: { kind: 'message', message } };
  }
  const body = readBody(k, b, controlSchemas[k]);
  if (typeof body === 'string') return refuse('invalidBody', body);
  const inbound = { kind: k, id, from: f, to: t, body } as ControlInbound;
  return { ok: true, inbound };
}

/** Kinds a batch may carry: the QoS 0 traffic between two members (docs/protocol.md §3, "Batches"). */
function batchable(kind: string): boolean {
  return isMessageKind(kind) || kind === 'forwardRequest' || kind === 'forwardResponse';
}

/**
 * Checks a `batch` as an envelope (topic, addressee, the shape of its body), then judges each
 * envelope in it as if it had come alone from the same sender to the same addressee. One bad
 * envelope in a batch is refused alone; its neighbours are not.
 */
function judgeBatch(b: unknown, route: Route, ctx: DecodeContext): DecodeResult {
  const { f, t, role } = route;
  if (!acceptedOn(role, 'batch')) return refuse('wrongTopic', `kind batch on the ${role} topic`);
  if (!addressedToUs(role, t, ctx.localId))
    return refuse('wrongAddressee', `addressed to ${t === null ? 'everyone' : t}`);
  if (!Array.isArray(b) || b.length < 2 || b.length > MAX_BATCH_ITEMS) {
    return refuse('invalidBody', `batch: not an array of 2 to ${MAX_BATCH_ITEMS} envelopes`);
  }
  const items = b.map((item: unknown): SingleResult => {
    if (!Array.isArray(item) || item.length !== 3)
      return refuse('invalidBody', 'batch: an item is not [k, id, body]');
    const [k, id, body] = item as unknown[];
    if (
      typeof k !== 'string' ||
      typeof id !== 'string' ||
      id.length > MAX_BATCH_ID_LENGTH ||
      !(body instanceof Uint8Array)
    ) {
      return refuse('invalidBody', 'batch: an item is not [k, id, body]');
    }
    if (!batchable(k)) return refuse('wrongTopic', `kind ${JSON.stringify(k)} in a batch`);
    let decoded: unknown;
    try {
      decoded = msgpackDecode(body);
    } catch (err) {
      return refuse('undecodable', `batch item ${k}: ${err instanceof Error ? err.message : String(err)}`);
    }
    return judge(k, id, decoded, route, ctx);
  });
  return { ok: true, inbound: { kind: 'batch', from: f, items } };
}

function entryCount(body: unknown): number {
  const entries =
    typeof body === 'object' && body !== null ? (body as { entries?: unknown }).entries : undefined;
  return Array.isArray(entries) ? entries.length : 0;
}
