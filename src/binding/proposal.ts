import { decode, encode } from '@msgpack/msgpack';
import { z } from 'zod';
import { RaftError } from '../errors.js';
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
  readonly input: Input;
}

// Only the structure is checked here, not the input rules (key length, value size): a committed
// entry must apply identically on every member, even on one running a version with other limits.
const WireSchema = z.object({
  m: z.string().min(1),
  s: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  i: z.discriminatedUnion('o', [
    z.object({ o: z.literal('set'), k: z.string().min(1), v: z.instanceof(Uint8Array) }),
    z.object({ o: z.literal('delete'), k: z.string().min(1) }),
  ]),
});

/** Encodes a proposal as msgpack `{m, s, i: {o, k, v?}}` (short keys: this is in every log entry). */
export function encodeProposal(p: Proposal): Uint8Array {
  const i =
    p.input.op === 'set' ? { o: 'set', k: p.input.key, v: p.input.value } : { o: 'delete', k: p.input.key };
  return encode({ m: p.member, s: p.seq, i });
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
    raw = decode(data);
  } catch (err) {
    throw new RaftError('CORRUPTION', `proposal: not msgpack (${(err as Error).message})`, { cause: err });
  }
  const parsed = WireSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RaftError(
      'CORRUPTION',
      `proposal: ${issue?.path.join('.') || 'entry'}: ${issue?.message ?? 'invalid'}`,
      {
        cause: parsed.error,
      },
    );
  }
  const { m, s, i } = parsed.data;
  const input: Input = i.o === 'set' ? { op: 'set', key: i.k, value: i.v } : { op: 'delete', key: i.k };
  return { member: m, seq: s, input };
}
