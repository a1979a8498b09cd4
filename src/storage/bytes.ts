/** Byte helpers shared by the storage codecs and key layouts. */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid sequences instead of substituting U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * A fresh, plain `Uint8Array` holding the same bytes. Used on every way in and out of a store:
 * memory-level keeps and returns the caller's buffers as they are, and `Buffer#slice` is a view, so
 * without a real copy a caller could rewrite stored data.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Writes `value` (a non-negative safe integer) as 8 bytes, big-endian, so byte order = numeric order. */
export function uint64BE(value: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  // Split by division: bitwise operators would truncate to 32 bits.
  view.setUint32(0, Math.floor(value / 0x1_0000_0000));
  view.setUint32(4, value >>> 0);
  return out;
}

/**
 * Reads 8 big-endian bytes at `offset` as a number, or undefined when they are missing or the value
 * exceeds `Number.MAX_SAFE_INTEGER` (which no store ever writes).
 */
export function readUint64BE(bytes: Uint8Array, offset = 0): number | undefined {
  if (bytes.length < offset + 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const high = view.getUint32(0);
  if (high > 0x1f_ffff) return undefined;
  return high * 0x1_0000_0000 + view.getUint32(4);
}

/**
 * The smallest byte string greater than every string starting with `prefix`: the exclusive upper
 * bound of a prefix range. `prefix` must not end in 0xFF (our prefixes are ASCII).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = copyBytes(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  return end;
}
