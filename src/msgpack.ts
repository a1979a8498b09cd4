import { Decoder, Encoder } from '@msgpack/msgpack';
import { assertWholeValue } from './msgpack-scan.js';

/**
 * One msgpack encoder and decoder for the whole library (log entries, stored records, proposals,
 * the MQTT envelope). The package's `encode()` and `decode()`
 * build a new Encoder (with a fresh 2 KiB buffer) or Decoder on every call, and `encode()` returns
 * a view that keeps that whole buffer alive: per log entry, that was a measurable share of the
 * CPU and garbage of a busy member. Both instances are safe to share: the code is synchronous,
 * and the decoder clones itself when entered twice.
 */
// `undefined` fields are left out, not written as nil: an optional field stays absent on the other side.
const encoder = new Encoder({ ignoreUndefined: true });
const decoder = new Decoder();

/** Encodes `value`; the result is a right-sized copy that owns its buffer. */
export function msgpackEncode(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/**
 * Decodes one msgpack value. Binary fields come back as views into `bytes`. The value must lie
 * whole within `bytes` and be nested at most `MAX_MSGPACK_DEPTH` deep, which is checked first
 * (msgpack-scan.ts): the decoder alone would reserve memory for every declared size.
 *
 * @throws whatever the decoder throws for malformed or truncated input, or a RangeError from that
 * check (callers map it).
 */
export function msgpackDecode(bytes: Uint8Array): unknown {
  assertWholeValue(bytes);
  return decoder.decode(bytes);
}
