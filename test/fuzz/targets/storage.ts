/**
 * Fuzz targets of the on-disk formats (src/storage/codec.ts): log entries, sealed records (hard
 * state, snapshot metadata) and framed values (stable-store values, snapshot chunks). Whatever the
 * bytes, a decoder returns a record that passes the checks a store applies to what it is given, or
 * throws CORRUPTION.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Entry } from '../../../src/core/types.js';
import { msgpackDecode } from '../../../src/msgpack.js';
import {
  decodeEntry,
  decodeFramed,
  decodeHardState,
  decodeStoredSnapshot,
  encodeEntry,
  encodeFramed,
  encodeHardState,
  encodeStoredSnapshot,
} from '../../../src/storage/codec.js';
import { storedSnapshotSchema } from '../../../src/storage/schemas.js';
import { checkEntry, checkHardState, ENTRY_TYPES } from '../../../src/storage/validate.js';
import { hostileMsgpack, mutated, randomBytes } from '../support/arbitraries.js';
import { type AnyTarget, decoderTarget, type FuzzTarget, resultOrRaftError } from '../support/target.js';

const uint = fc.oneof(fc.nat({ max: 1000 }), fc.maxSafeInteger());
const entry: fc.Arbitrary<Entry> = fc.record({
  index: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  term: uint,
  type: fc.constantFrom(...ENTRY_TYPES),
  data: fc.uint8Array({ maxLength: 64 }),
});
const hardState = fc.record({ term: uint, vote: fc.constantFrom(null, 'a', 'b'), commit: uint });
const storedSnapshot = fc.record({
  meta: fc.record({
    index: uint,
    term: uint,
    config: fc.record({
      servers: fc.array(
        fc.record({
          id: fc.string({ maxLength: 4 }),
          suffrage: fc.constantFrom('voter', 'nonvoter', 'staging'),
        }),
        {
          maxLength: 3,
        },
      ),
    }),
    configIndex: uint,
  }),
  size: uint,
  chunks: uint,
  crc: fc.nat({ max: 0xffff_ffff }),
});

/** Hostile bytes made from the stored form of `valid` values. */
function storedInputs<T>(valid: fc.Arbitrary<T>, encode: (value: T) => Uint8Array): fc.Arbitrary<Uint8Array> {
  return hostileMsgpack(valid.map((value) => msgpackDecode(encode(value))));
}

/** A log entry read under its index: an entry that passes `checkEntry`, at that index, or CORRUPTION. */
export const entryTarget: FuzzTarget<{ bytes: Uint8Array; index: number }> = {
  name: 'storage: log entry',
  inputs: fc.oneof(
    // Under the key it was written with, so that the valid and the mutated ones get past the index check.
    entry.chain((e) => storedInputs(fc.constant(e), encodeEntry).map((bytes) => ({ bytes, index: e.index }))),
    fc.record({ bytes: randomBytes, index: fc.integer({ min: 1, max: 100 }) }),
  ),
  size: ({ bytes }) => bytes.length,
  check({ bytes, index }) {
    const decoded = resultOrRaftError('CORRUPTION', () => decodeEntry(bytes, index));
    if (decoded === null) return 'rejected';
    assert.deepEqual(checkEntry(decoded), decoded);
    assert.equal(decoded.index, index);
    return 'accepted';
  },
};

/** The hard state: one that passes `checkHardState`, or CORRUPTION. */
export const hardStateTarget = decoderTarget(
  'storage: hard state',
  storedInputs(hardState, encodeHardState),
  'CORRUPTION',
  decodeHardState,
  (decoded) => assert.deepEqual(checkHardState(decoded), decoded),
);

/** A snapshot's metadata record: one that passes its schema, or CORRUPTION. */
export const storedSnapshotTarget = decoderTarget(
  'storage: snapshot metadata',
  storedInputs(storedSnapshot, encodeStoredSnapshot),
  'CORRUPTION',
  (bytes) => decodeStoredSnapshot(bytes, 'fuzz'),
  (decoded) => assert.ok(storedSnapshotSchema.safeParse(decoded).success),
);

const KEY = new TextEncoder().encode('chunk/7');
const framed = fc.uint8Array({ maxLength: 256 }).map((payload) => encodeFramed(KEY, payload));

/** A framed value (stable value, snapshot chunk): its payload, which re-frames to the same bytes, or CORRUPTION. */
export const framedTarget = decoderTarget(
  'storage: framed value',
  fc.oneof(randomBytes, framed, mutated(framed)),
  'CORRUPTION',
  (bytes) => decodeFramed(KEY, bytes, 'fuzz value'),
  (payload, bytes) => assert.deepEqual(encodeFramed(KEY, payload), bytes),
);

export function storageTargets(): AnyTarget[] {
  return [entryTarget, hardStateTarget, storedSnapshotTarget, framedTarget];
}
