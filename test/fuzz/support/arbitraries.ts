/**
 * Hostile inputs for every decoder: random bytes; valid encodings mutated (bit flips, truncation,
 * splices, overwritten length fields); msgpack whose headers declare sizes with nothing behind them;
 * deep nesting; valid values with one field of the wrong type.
 */
import fc from 'fast-check';
import { msgpackEncode } from '../../../src/msgpack.js';
import { concat } from '../../support/recording-handler.js';

/** Random bytes, mostly short, some of a few KiB. */
export const randomBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) },
);

/** Headers that declare a length or count of 2^32-1 (or 2^16-1): array, map, bin, str, ext. */
const HUGE_HEADERS: readonly number[][] = [
  [0xdd, 0xff, 0xff, 0xff, 0xff],
  [0xdc, 0xff, 0xff],
  [0xdf, 0xff, 0xff, 0xff, 0xff],
  [0xde, 0xff, 0xff],
  [0xc6, 0xff, 0xff, 0xff, 0xff],
  [0xc5, 0xff, 0xff],
  [0xdb, 0xff, 0xff, 0xff, 0xff],
  [0xda, 0xff, 0xff],
  [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
];

const hugeHeader = fc.constantFrom(...HUGE_HEADERS);

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'set'; readonly at: number; readonly value: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'delete'; readonly at: number; readonly length: number }
  | { readonly kind: 'splice'; readonly from: number; readonly length: number; readonly at: number }
  | { readonly kind: 'header'; readonly at: number; readonly header: readonly number[] };

const position = fc.nat({ max: 1 << 16 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('splice' as const),
    from: position,
    length: fc.integer({ min: 1, max: 64 }),
    at: position,
  }),
  fc.record({ kind: fc.constant('header' as const), at: position, header: hugeHeader }),
);

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  if (n === 0) return m.kind === 'header' ? Uint8Array.from(m.header) : bytes;
  const out = Uint8Array.from(bytes);
  switch (m.kind) {
    case 'flip':
      out[m.at % n] = (out[m.at % n] as number) ^ (1 << m.bit);
      return out;
    case 'set':
      out[m.at % n] = m.value;
      return out;
    case 'truncate':
      return out.subarray(0, m.at % n);
    case 'delete': {
      const at = m.at % n;
      return concat([out.subarray(0, at), out.subarray(at + m.length)]);
    }
    case 'splice': {
      const from = m.from % n;
      const at = m.at % (n + 1);
      return concat([out.subarray(0, at), out.subarray(from, from + m.length), out.subarray(at)]);
    }
    case 'header': {
      // Overwrites what is there, as a length field that lies would.
      const at = m.at % n;
      const head = Uint8Array.from(m.header);
      return concat([out.subarray(0, at), head, out.subarray(Math.min(n, at + head.length))]);
    }
  }
}

/** Encodings from `valid`, each changed by one to four mutations. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([bytes, ms]) => ms.reduce(mutate, bytes));
}

/** A valid encoding with a header declaring 2^32-1 (or 2^16-1) of something put in front or in place of it. */
export function declaredButAbsent(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, hugeHeader, fc.boolean())
    .map(([bytes, header, replace]) =>
      replace
        ? concat([Uint8Array.from(header), bytes.subarray(header.length)])
        : concat([Uint8Array.from(header), bytes]),
    );
}

/**
 * Nesting thousands of levels deep: one header repeated, then a leaf. `[0x91]` is an array of one,
 * `[0xdc, 0x3e, 0x80]` an array declaring 16,000 elements (about the largest that V8 reserves at
 * once), `[0x81, 0xa1, 0x6b]` a map of one entry `k`.
 */
export const deepNesting: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    fc.constantFrom(
      [0x91],
      [0xdc, 0x3e, 0x80],
      [0xdd, 0xff, 0xff, 0xff, 0xff],
      [0x81, 0xa1, 0x6b],
      [0xdf, 0, 0, 0, 1, 0xa0],
    ),
    fc.integer({ min: 90, max: 5000 }),
    fc.constantFrom([0xc0], [0x01], []),
  )
  .map(([header, depth, leaf]) => {
    const out = new Uint8Array(header.length * depth + leaf.length);
    for (let i = 0; i < depth; i++) out.set(header, i * header.length);
    out.set(leaf, header.length * depth);
    return out;
  });

/** Values a field of the wrong type gets. */
const wrongValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, -1, 0, 1.5, -0.5, 2 ** 53, -(2 ** 63), Number.NaN, '', 'x', [], {}),
  fc.string({ maxLength: 8 }),
  fc.integer(),
  fc.uint8Array({ maxLength: 8 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 3 }),
);

/** Every path to a field or element inside `value` (bytes are leaves). */
function paths(value: unknown, prefix: readonly (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...paths((value as Record<string | number, unknown>)[key], path)];
  });
}

function replaceAt(value: unknown, path: readonly (string | number)[], next: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return next;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = replaceAt(copy[head], rest, next);
  return copy;
}

/** Values from `valid` with one field or element (chosen at random, nested ones included) of the wrong type. */
export function withWrongField<T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.nat(), wrongValue).map(([value, pick, wrong]) => {
    const all = paths(value);
    const path = all[pick % Math.max(1, all.length)];
    return path === undefined ? wrong : replaceAt(value, path, wrong);
  });
}

/**
 * Every kind of hostile input for a msgpack decoder whose valid inputs are the encodings of
 * `valid` (values as msgpack holds them): random bytes, the valid encodings themselves, mutated
 * ones, declared-but-absent sizes, deep nesting, wrong field types.
 */
export function hostileMsgpack(valid: fc.Arbitrary<unknown>): fc.Arbitrary<Uint8Array> {
  const encoded = valid.map((value) => msgpackEncode(value));
  return fc.oneof(
    randomBytes,
    encoded,
    mutated(encoded),
    declaredButAbsent(encoded),
    deepNesting,
    withWrongField(valid).map((value) => msgpackEncode(value)),
  );
}
