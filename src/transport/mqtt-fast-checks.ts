/**
 * Hand-written checks of the envelopes and bodies that carry replication and forwarding, the
 * traffic of every proposal. Each accepts only what its schema in mqtt-schemas.ts accepts and
 * returns what the schema would (unknown fields stripped); anything else returns null and the
 * decoder asks the schema, which refuses it with its reason. Walking a zod schema per envelope
 * and per entry cost more CPU than the rest of decoding (docs/benchmarks.md, "Decoding").
 */
import type { Entry, EntryType } from '../core/types.js';
import { type Envelope, PROTOCOL_VERSION } from './mqtt-schemas.js';
import { MAX_NAME_LENGTH, nameProblem } from './mqtt-topics.js';

type Fields = Record<string, unknown>;

const ENTRY_TYPES: ReadonlySet<unknown> = new Set<EntryType>(['command', 'noop', 'config', 'barrier']);

/** The longest correlation id (`correlationIdSchema`). */
const MAX_ID_LENGTH = 2 * MAX_NAME_LENGTH;
/** The longest group id (`groupIdSchema`). */
const MAX_GROUP_LENGTH = 64;

function isFields(value: unknown): value is Fields {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

function isUint(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && nameProblem(value) === null;
}

/** The envelope as `envelopeSchema` reads it, or null when the schema must judge it. */
export function fastEnvelope(raw: unknown): Envelope | null {
  if (!isFields(raw)) return null;
  const { v, k, id, f, t, c, g, s, n, x } = raw;
  if (v !== PROTOCOL_VERSION || typeof k !== 'string' || typeof c !== 'string') return null;
  if (typeof id !== 'string' || id.length > MAX_ID_LENGTH) return null;
  if (!isNodeId(f) || (t !== null && !isNodeId(t))) return null;
  if (g !== undefined && (typeof g !== 'string' || g.length > MAX_GROUP_LENGTH)) return null;
  if (s !== undefined && !(s instanceof Uint8Array)) return null;
  if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 1)) return null;
  if (x !== undefined && !(x instanceof Uint8Array)) return null;
  const envelope: { -readonly [K in keyof Envelope]: Envelope[K] } = { v, k, id, f, t, c };
  if (g !== undefined) envelope.g = g;
  if ('b' in raw) envelope.b = raw.b;
  if (s !== undefined) envelope.s = s as Envelope['s'];
  if (n !== undefined) envelope.n = n as number;
  if (x !== undefined) envelope.x = x as Envelope['x'];
  return envelope;
}

function fastEntry(raw: unknown): Entry | null {
  if (!isFields(raw)) return null;
  const { index, term, type, data } = raw;
  if (!isUint(index) || !isUint(term) || !ENTRY_TYPES.has(type) || !(data instanceof Uint8Array)) return null;
  return { index, term, type: type as EntryType, data };
}

function fastAppendRequest(b: Fields): Fields | null {
  const { term, prevIndex, prevTerm, entries, commit } = b;
  if (!isUint(term) || !isUint(prevIndex) || !isUint(prevTerm) || !isUint(commit)) return null;
  if (!Array.isArray(entries)) return null;
  const checked: Entry[] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const entry = fastEntry(entries[i]);
    if (entry === null) return null;
    checked[i] = entry;
  }
  return { term, prevIndex, prevTerm, entries: checked, commit };
}

function fastAppendResponse(b: Fields): Fields | null {
  const { term, success, index, hintIndex, hintTerm } = b;
  if (!isUint(term) || typeof success !== 'boolean' || !isUint(index)) return null;
  if (!isUint(hintIndex) || !isUint(hintTerm)) return null;
  return { term, success, index, hintIndex, hintTerm };
}

function fastHeartbeatRequest(b: Fields): Fields | null {
  const { term, commit, context } = b;
  return isUint(term) && isUint(commit) && isUint(context) ? { term, commit, context } : null;
}

function fastHeartbeatResponse(b: Fields): Fields | null {
  const { term, context } = b;
  return isUint(term) && isUint(context) ? { term, context } : null;
}

/** A forwarded proposal (`kind: 'apply'`); the other forwarded operations are rare. */
function fastForwardRequest(b: Fields): Fields | null {
  const { kind, origin, incarnation, seq, data } = b;
  if (kind !== 'apply' || !isNodeId(origin) || !isUint(seq) || !(data instanceof Uint8Array)) return null;
  if (typeof incarnation !== 'string' || incarnation.length < 1 || incarnation.length > 64) return null;
  return { kind, origin, incarnation, seq, data };
}

/** A successful answer to a forward; a failure carries an error the schema checks. */
function fastForwardResponse(b: Fields): Fields | null {
  const { ok, index } = b;
  if (ok !== true || !isUint(index)) return null;
  return 'response' in b ? { ok, index, response: b.response } : { ok, index };
}

const FAST_BODIES: Readonly<Record<string, (b: Fields) => Fields | null>> = {
  appendRequest: fastAppendRequest,
  appendResponse: fastAppendResponse,
  heartbeatRequest: fastHeartbeatRequest,
  heartbeatResponse: fastHeartbeatResponse,
  forwardRequest: fastForwardRequest,
  forwardResponse: fastForwardResponse,
};

/** The body of kind `k` as its schema reads it, or null when the schema must judge it. */
export function fastBody(k: string, b: unknown): Fields | null {
  const check = Object.hasOwn(FAST_BODIES, k) ? FAST_BODIES[k] : undefined;
  return check === undefined || !isFields(b) ? null : check(b);
}

/** What {@link readBody} needs of a body schema. */
interface BodySchema {
  safeParse(
    value: unknown,
  ): { success: true; data: unknown } | { success: false; error: Parameters<typeof firstIssue>[0] };
}

/**
 * The body of kind `k` as its schema reads it: checked by hand ({@link fastBody}) for the kinds
 * every proposal sends; anything those checks do not accept goes to the schema, whose first issue
 * is the reason returned (as a string) when it refuses too.
 */
export function readBody(k: string, b: unknown, schema: BodySchema): object | string {
  const fast = fastBody(k, b);
  if (fast !== null) return fast;
  const parsed = schema.safeParse(b);
  return parsed.success ? (parsed.data as object) : `${k}: ${firstIssue(parsed.error)}`;
}

/** The first problem zod found, as `path: message`. */
export function firstIssue(error: {
  issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>;
}): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}
