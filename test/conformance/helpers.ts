import { expect } from 'vitest';
import type { Entry, EntryType, SnapshotMeta } from '../../src/core/types.js';
import type { RaftErrorCode } from '../../src/errors.js';
import { RaftError } from '../../src/errors.js';
import type { RaftStorage } from '../../src/storage/types.js';

/** Opens a fresh, empty store; each conformance test opens its own and closes it with `close(true)`. */
export type StoreFactory = () => Promise<RaftStorage>;

/** Deterministic data for the entry at `index`: its length varies with the index. */
export function dataFor(index: number, term = 1): Uint8Array {
  const out = new Uint8Array(index % 7);
  for (let i = 0; i < out.length; i++) out[i] = (index * 31 + term * 7 + i) & 0xff;
  return out;
}

/** An entry whose data is derived from index and term. */
export function entry(index: number, term = 1, type: EntryType = 'command'): Entry {
  return { index, term, type, data: dataFor(index, term) };
}

/** Entries [from, to] of one term. */
export function entries(from: number, to: number, term = 1): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

/** Snapshot metadata for tests. */
export function meta(index: number, term = 1): SnapshotMeta {
  return {
    index,
    term,
    config: {
      servers: [
        { id: 'a', suffrage: 'voter' },
        { id: 'b', suffrage: 'nonvoter' },
      ],
    },
    configIndex: Math.max(0, index - 1),
  };
}

/** Asserts that `promise` rejects with a RaftError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: RaftErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a rejection with ${code}`).toBeInstanceOf(RaftError);
  expect((err as RaftError).code).toBe(code);
}

/** Reads an async iterable of chunks into one byte array. */
export async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return concat(parts);
}

/** Concatenates byte arrays into a plain Uint8Array (Buffer.concat would return a Buffer). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Pseudo-random bytes from a seed (xorshift), for byte-exact round trips. */
export function bytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Index values every index-taking method must refuse. */
export const BAD_INDEXES: readonly unknown[] = [
  0,
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  '1',
  null,
];

/** Asserts byte equality without vitest's element-by-element diffing, which is slow for megabytes. */
export function expectSameBytes(actual: Uint8Array | undefined, expected: Uint8Array): void {
  expect(actual).toBeInstanceOf(Uint8Array);
  expect(Buffer.compare(actual ?? new Uint8Array(0), expected), 'byte arrays differ').toBe(0);
}
