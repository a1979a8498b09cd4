import { z } from 'zod';
import { RaftError } from '../errors.js';

/** A change to the replicated key-value state: set a key to bytes, or delete a key. */
export type Input = { op: 'set'; key: string; value: Uint8Array } | { op: 'delete'; key: string };

/** Longest accepted key, in UTF-16 code units (JavaScript string length). */
export const MAX_KEY_LENGTH = 1024;

/** Largest accepted value: 1 MiB. Bigger values would make every log entry and snapshot heavy. */
export const MAX_VALUE_BYTES = 1024 * 1024;

// A lone surrogate has no UTF-8 form: msgpack would store U+FFFD instead, so the key applied on
// every member would differ from the key proposed. In `u` mode a valid pair is one code point, so
// `\p{Cs}` only matches the unpaired halves.
const LONE_SURROGATE = /\p{Cs}/u;

const key = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(MAX_KEY_LENGTH, { error: `must be at most ${MAX_KEY_LENGTH} characters` })
  .refine((k) => !LONE_SURROGATE.test(k), { error: 'must be well-formed Unicode (no lone surrogates)' });

const value = z
  .instanceof(Uint8Array, { error: 'must be a Uint8Array' })
  .refine((v) => v.byteLength <= MAX_VALUE_BYTES, { error: `must be at most ${MAX_VALUE_BYTES} bytes` });

/**
 * Validates an {@link Input}. Objects are strict: an unknown field (a typo such as `val`, or a
 * `value` on a delete) is rejected rather than silently dropped.
 */
export const InputSchema: z.ZodType<Input> = z.discriminatedUnion(
  'op',
  [z.strictObject({ op: z.literal('set'), key, value }), z.strictObject({ op: z.literal('delete'), key })],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be "set" or "delete"' : 'must be an object') },
);

/**
 * Checks an input before it is proposed, so that an invalid operation never reaches the log.
 * Returns a fresh object (the value bytes are not copied).
 *
 * @throws RaftError `INVALID_INPUT` with the message `<field>: <rule>`, e.g. `key: must not be empty`.
 */
export function parseInput(input: unknown): Input {
  const result = InputSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new RaftError('INVALID_INPUT', 'input: invalid');
  // An unknown field has no path of its own: name the field itself.
  const field =
    issue.code === 'unrecognized_keys' ? String(issue.keys[0]) : issue.path.map(String).join('.') || 'input';
  const rule = issue.code === 'unrecognized_keys' ? 'is not a field of this op' : issue.message;
  throw new RaftError('INVALID_INPUT', `${field}: ${rule}`, { cause: result.error });
}
