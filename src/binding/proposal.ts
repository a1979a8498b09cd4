import { RaftError } from '../errors.js';
import { msgpackDecode, msgpackEncode } from '../msgpack.js';
import type { Input } from './input.js';

/**
 * What a member puts in a log entry: an input, tagged with the proposing session and a sequence
 * number, so that a retried proposal is applied once (thesis §6.3, client sessions).
 */
export interface Proposal {
  /** A session id of the proposing member, unique per `open()`. */
  readonly member: string;
  /** Positive and increasing per session; a retry reuses the seq of the original attempt. */
  readonly seq: number;
  /**
   * The lowest seq of the session whose answer the proposer still waits for (this one's, or an
   * older one's): every seq below it is finished and need not be remembered. 0 acknowledges nothing.
   */
  readonly ack: number;
  readonly input: EntryInput;
}

/**
 * A setting of the group itself (such as its voter budget, voter-budget.ts), replicated like an
 * input but kept by the FSM apart from the user's state: observers never see it.
 */
export interface SettingInput {
  readonly op: 'setting';
  readonly key: string;
  readonly value: Uint8Array;
}

/** What a log entry carries: a user's input or a group setting. */
export type EntryInput = Input | SettingInput;

// Only the structure is checked here, not the input rules (key length, value size): a committed
// entry must apply identically on every member, even on one running a version with other limits.
// Checked by hand rather than with a schema: this runs for every entry applied on every member.

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function corrupt(path: string, problem: string): RaftError {
  return new RaftError('CORRUPTION', `proposal: ${path}: ${problem}`);
}

function nonEmptyString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0) throw corrupt(path, 'expected a non-empty string');
  return value;
}

/**
 * Encodes a proposal as msgpack `{m, s, a, i: {o, k, v?}}` (`o`: set, delete or setting) (short keys: this is in every log entry).
 * Without `ack` it acknowledges nothing.
 */
export function encodeProposal(p: Omit<Proposal, 'ack'> & { readonly ack?: number }): Uint8Array {
  const i =
    p.input.op === 'delete'
      ? { o: 'delete', k: p.input.key }
      : { o: p.input.op, k: p.input.key, v: p.input.value };
  return msgpackEncode({ m: p.member, s: p.seq, a: p.ack ?? 0, i });
}

/**
 * Decodes a committed entry's data. The value is a view into `data`; copy it to keep it.
 *
 * @throws RaftError `CORRUPTION` when the bytes are not a proposal: a committed entry that does not
 * decode cannot be skipped without the members' states diverging.
 */
export function decodeProposal(data: Uint8Array): Proposal {
  let raw: unknown;
  try {
    raw = msgpackDecode(data);
  } catch (err) {
    throw new RaftError('CORRUPTION', `proposal: not msgpack (${(err as Error).message})`, { cause: err });
  }
  if (!isRecord(raw)) throw corrupt('entry', 'expected a map');
  const member = nonEmptyString(raw.m, 'm');
  const seq = raw.s;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0)
    throw corrupt('s', 'expected a positive safe integer');
  // Entries written before acknowledgements existed have none: they acknowledge nothing.
  const ack = raw.a ?? 0;
  if (typeof ack !== 'number' || !Number.isSafeInteger(ack) || ack < 0)
    throw corrupt('a', 'expected a non-negative safe integer');
  const i = raw.i;
  if (!isRecord(i)) throw corrupt('i', 'expected a map');
  const key = nonEmptyString(i.k, 'i.k');
  if (i.o === 'set' || i.o === 'setting') {
    if (!(i.v instanceof Uint8Array)) throw corrupt('i.v', 'expected bytes');
    return { member, seq, ack, input: { op: i.o, key, value: i.v } };
  }
  if (i.o === 'delete') return { member, seq, ack, input: { op: 'delete', key } };
  throw corrupt('i.o', 'expected "set", "delete" or "setting"');
}
