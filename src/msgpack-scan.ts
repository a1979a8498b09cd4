/**
 * A walk over msgpack headers that allocates nothing per value, run before a value is decoded.
 *
 * The decoder trusts declared sizes: an array header is answered with `new Array(size)` before any
 * element is read, so a run of nested array headers, 3 bytes each, claiming 16,000 elements makes
 * V8 reserve about 128 KiB per header (9 KB of input held 385 MB and took 3 s). Once the walk has
 * found the whole value inside the bytes, every declared element has at least one byte behind it,
 * so what the decoder reserves is bounded by the input's size. The walk also bounds nesting, which
 * the decoder does not.
 */

/**
 * Deepest nesting accepted, the root being depth 1: the library's encoder refuses to write anything
 * deeper (its default `maxDepth`), so no value of ours needs more.
 */
export const MAX_MSGPACK_DEPTH = 100;

/** Where one value ends, or why it could not be found whole. */
export type ScanResult =
  | { readonly kind: 'complete'; readonly end: number }
  /** The bytes end before the value does (a declared size has nothing behind it, or a cut). */
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string };

const INCOMPLETE: ScanResult = { kind: 'incomplete' };

/** The fixed part of a header, filled in by {@link readHead}; one instance reused per scan. */
interface Head {
  /** Bytes of the header, the type byte included. */
  size: number;
  /** Bytes after the header that belong to the value (str, bin, ext data). */
  body: number;
  /** Values nested in it (array elements; map keys and values). */
  children: number;
}

/**
 * Reads the header at `pos` into `head`: false when the header itself runs past `end`, a reason
 * for a type byte msgpack never uses (0xc1), true otherwise.
 */
function readHead(bytes: Uint8Array, view: DataView, pos: number, end: number, head: Head): boolean | string {
  const b = bytes[pos] as number;
  head.size = 1;
  head.body = 0;
  head.children = 0;
  if (b <= 0x7f || b >= 0xe0) return true;
  if (b <= 0x8f) head.children = 2 * (b & 0x0f);
  else if (b <= 0x9f) head.children = b & 0x0f;
  else if (b <= 0xbf) head.body = b & 0x1f;
  else {
    const fixed = FIXED_SIZES[b - 0xc0] as number;
    if (fixed === 0) return `unused type byte 0x${b.toString(16)}`;
    if (fixed > 0) {
      head.size = fixed;
      return true;
    }
    // Sized types: the length is 1, 2 or 4 bytes after the type byte; ext has its type byte after it.
    const width = SIZE_WIDTHS[b - 0xc4] as number;
    const extra = b >= 0xc7 && b <= 0xc9 ? 1 : 0;
    if (pos + 1 + width + extra > end) return false;
    const n =
      width === 1 ? view.getUint8(pos + 1) : width === 2 ? view.getUint16(pos + 1) : view.getUint32(pos + 1);
    head.size = 1 + width + extra;
    if (b === 0xdc || b === 0xdd) head.children = n;
    else if (b === 0xde || b === 0xdf) head.children = 2 * n;
    else head.body = n;
  }
  return true;
}

/**
 * Whole size of the types 0xc0 … 0xdf that have one (nil, booleans, numbers, fixext); 0 for the
 * unused 0xc1; -1 for the types whose size follows the type byte.
 */
// biome-ignore format: a table, one line per family of types
const FIXED_SIZES: readonly number[] = [
  1, 0, 1, 1, // nil, (unused), false, true
  -1, -1, -1, // bin 8/16/32
  -1, -1, -1, // ext 8/16/32
  5, 9, // float 32/64
  2, 3, 5, 9, // uint 8/16/32/64
  2, 3, 5, 9, // int 8/16/32/64
  3, 4, 6, 10, 18, // fixext 1/2/4/8/16
  -1, -1, -1, // str 8/16/32
  -1, -1, // array 16/32
  -1, -1, // map 16/32
];

/** Width of the length field of the sized types, from 0xc4 on (0 where the type is not sized). */
// biome-ignore format: a table, one line per family of types
const SIZE_WIDTHS: readonly number[] = [
  1, 2, 4, // bin
  1, 2, 4, // ext
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // floats, uints, ints, fixext
  1, 2, 4, // str
  2, 4, // array
  2, 4, // map
];

/**
 * Finds the end of the msgpack value that starts at `start` within `bytes[start, end)`, reading
 * only headers: time is linear in the number of values, memory is one counter per nesting level.
 */
export function scanValue(
  bytes: Uint8Array,
  start = 0,
  end = bytes.byteLength,
  maxDepth = MAX_MSGPACK_DEPTH,
): ScanResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head: Head = { size: 0, body: 0, children: 0 };
  // Values still owed by each open array or map, outermost first.
  const owed: number[] = [];
  let pos = start;
  for (;;) {
    if (pos >= end) return INCOMPLETE;
    const read = readHead(bytes, view, pos, end, head);
    if (read === false) return INCOMPLETE;
    if (typeof read === 'string') return { kind: 'invalid', reason: read };
    pos += head.size + head.body;
    if (pos > end) return INCOMPLETE;
    if (owed.length + 1 > maxDepth) {
      return { kind: 'invalid', reason: `nested deeper than ${maxDepth} levels` };
    }
    if (head.children > 0) {
      owed.push(head.children);
      continue;
    }
    // A value is complete: it pays one owed value of its container, which may complete it too.
    for (;;) {
      const last = owed.length - 1;
      if (last < 0) return { kind: 'complete', end: pos };
      const left = (owed[last] as number) - 1;
      if (left > 0) {
        owed[last] = left;
        break;
      }
      owed.pop();
    }
  }
}

/**
 * Checks that `bytes` hold one whole msgpack value nested at most {@link MAX_MSGPACK_DEPTH} deep,
 * before a decoder allocates for what its headers declare.
 *
 * @throws RangeError when they do not (callers map it as they map any decoding failure)
 */
export function assertWholeValue(bytes: Uint8Array): void {
  const result = scanValue(bytes);
  if (result.kind === 'incomplete') {
    throw new RangeError('msgpack: the data ends before the value (a declared size exceeds the data)');
  }
  if (result.kind === 'invalid') throw new RangeError(`msgpack: ${result.reason}`);
}
