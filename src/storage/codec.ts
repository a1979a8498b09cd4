import type { Entry, EntryType, HardState } from '../core/types.js';
import { msgpackDecode, msgpackEncode } from '../msgpack.js';
import { concatBytes, copyBytes } from './bytes.js';
import { crc32c } from './crc32c.js';
import { hardStateSchema, type StoredSnapshot, storedSnapshotSchema } from './schemas.js';
import { corruption, ENTRY_TYPES } from './validate.js';

/**
 * On-disk formats. Every record carries a CRC-32C and every decoder checks it and the record's
 * shape, so damaged bytes surface as a `RaftError` of code `CORRUPTION`, never as a TypeError or as
 * wrong data handed to Raft. (LevelDB has its own block checksums, but classic-level does not turn
 * on paranoid checks, so a damaged record may be read without complaint.)
 *
 * Log entry: msgpack map `{ i: index, t: term, k: typeCode, d: data, c: crc }`, where `typeCode`
 * is the position of the type in {@link ENTRY_TYPES} and
 *   crc = CRC-32C( index as 8 bytes big-endian ‖ term as 8 bytes big-endian ‖ typeCode as 1 byte ‖ data ).
 * The CRC covers the index too, so an entry stored under the wrong key is caught as well.
 *
 * Sealed record (hard state, snapshot metadata): msgpack map `{ b: body, c: CRC-32C(body) }` where
 * `body` is the msgpack encoding of the value.
 *
 * Framed value (stable-store values, snapshot chunks): 4 bytes big-endian CRC followed by the
 * payload, where the CRC is CRC-32C( key ‖ payload ) with `key` the record's key in its sublevel.
 */

const MAX_UINT32 = 0xffff_ffff;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUint(value: unknown, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;
}

/** Decodes msgpack, turning any decoder failure (truncation, bad tags, trailing bytes) into CORRUPTION. */
function decodeMsgpack(bytes: Uint8Array, what: string): unknown {
  try {
    return msgpackDecode(bytes);
  } catch (err) {
    throw corruption(`${what} is not valid msgpack`, err);
  }
}

/** Scratch space for the CRC header, reused: this runs for every entry written or read. */
const header = new Uint8Array(17);
const headerView = new DataView(header.buffer);

function entryCrc(index: number, term: number, typeCode: number, data: Uint8Array): number {
  // Both as 8 bytes big-endian, split by division: bitwise operators would truncate to 32 bits.
  headerView.setUint32(0, Math.floor(index / 0x1_0000_0000));
  headerView.setUint32(4, index >>> 0);
  headerView.setUint32(8, Math.floor(term / 0x1_0000_0000));
  headerView.setUint32(12, term >>> 0);
  header[16] = typeCode;
  return crc32c(data, crc32c(header));
}

/** Encodes a (validated) log entry. */
export function encodeEntry(entry: Entry): Uint8Array {
  const k = ENTRY_TYPES.indexOf(entry.type);
  const c = entryCrc(entry.index, entry.term, k, entry.data);
  return msgpackEncode({ i: entry.index, t: entry.term, k, d: entry.data, c });
}

/**
 * Decodes the log entry stored under `index`, checking its shape, its CRC and that it really is
 * entry `index`. The returned data is a private copy.
 */
export function decodeEntry(bytes: Uint8Array, index: number): Entry {
  const what = `log entry ${index}`;
  const value = decodeMsgpack(bytes, what);
  if (!isRecord(value)) throw corruption(`${what} is not a map`);
  const { i, t, k, d, c } = value;
  if (!isUint(i) || !isUint(t) || !isUint(k, ENTRY_TYPES.length - 1) || !(d instanceof Uint8Array)) {
    throw corruption(`${what} has a malformed field`);
  }
  if (!isUint(c, MAX_UINT32) || c !== entryCrc(i, t, k, d)) {
    throw corruption(`${what} failed its checksum`);
  }
  if (i !== index) throw corruption(`${what} holds entry ${i}`);
  return { index: i, term: t, type: ENTRY_TYPES[k] as EntryType, data: copyBytes(d) };
}

function encodeSealed(value: unknown): Uint8Array {
  const b = msgpackEncode(value);
  return msgpackEncode({ b, c: crc32c(b) });
}

function decodeSealed(bytes: Uint8Array, what: string): unknown {
  const outer = decodeMsgpack(bytes, what);
  if (!isRecord(outer) || !(outer.b instanceof Uint8Array) || !isUint(outer.c, MAX_UINT32)) {
    throw corruption(`${what} is malformed`);
  }
  if (crc32c(outer.b) !== outer.c) throw corruption(`${what} failed its checksum`);
  return decodeMsgpack(outer.b, what);
}

/** Encodes a (validated) hard state. */
export function encodeHardState(state: HardState): Uint8Array {
  return encodeSealed({ term: state.term, vote: state.vote, commit: state.commit });
}

/** Decodes a hard state, checking CRC and shape. */
export function decodeHardState(bytes: Uint8Array): HardState {
  const parsed = hardStateSchema.safeParse(decodeSealed(bytes, 'hard state'));
  if (!parsed.success) throw corruption(`hard state is malformed: ${parsed.error.message}`);
  return parsed.data;
}

/** Encodes a snapshot's metadata record. */
export function encodeStoredSnapshot(record: StoredSnapshot): Uint8Array {
  return encodeSealed(record);
}

/** Decodes a snapshot's metadata record, checking CRC and shape. */
export function decodeStoredSnapshot(bytes: Uint8Array, id: string): StoredSnapshot {
  const what = `metadata of snapshot ${id}`;
  const parsed = storedSnapshotSchema.safeParse(decodeSealed(bytes, what));
  if (!parsed.success) throw corruption(`${what} is malformed: ${parsed.error.message}`);
  return parsed.data;
}

/** Frames `payload` for storage under `key`: CRC-32C(key ‖ payload) as 4 bytes big-endian, then payload. */
export function encodeFramed(key: Uint8Array, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, crc32c(payload, crc32c(key)));
  return concatBytes(head, payload);
}

/** Checks a framed value stored under `key` and returns a private copy of its payload. */
export function decodeFramed(key: Uint8Array, stored: Uint8Array, what: string): Uint8Array {
  if (stored.length < 4) throw corruption(`${what} is truncated`);
  const expected = new DataView(stored.buffer, stored.byteOffset, 4).getUint32(0);
  const payload = stored.subarray(4);
  if (crc32c(payload, crc32c(key)) !== expected) throw corruption(`${what} failed its checksum`);
  return copyBytes(payload);
}
