/** Fuzz targets of the shared msgpack decoder (src/msgpack.ts) and its bounds check (src/msgpack-scan.ts). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { msgpackDecode, msgpackEncode } from '../../../src/msgpack.js';
import { scanValue } from '../../../src/msgpack-scan.js';
import { hostileMsgpack } from '../support/arbitraries.js';
import type { AnyTarget, FuzzTarget } from '../support/target.js';

/** Values msgpack can hold, nested a few levels. */
export const msgpackValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    { withCrossShrink: true },
    fc.constantFrom(null, true, false),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true }),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 300 }),
    fc.date({ noInvalidDate: true }),
    // Long enough for the 16- and 32-bit length forms of str, bin, array and map.
    fc.string({ minLength: 256, maxLength: 300 }),
    fc.integer({ min: 65_536, max: 65_600 }).map((n) => new Uint8Array(n).fill(7)),
    fc.array(fc.integer(), { minLength: 16, maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 6 }), fc.integer(), { minKeys: 16, maxKeys: 20 }),
  ),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 20 }),
    fc.dictionary(
      fc.string({ maxLength: 6 }).filter((k) => k !== '__proto__'),
      tie('node'),
      { maxKeys: 6 },
    ),
  ),
})).node;

/** Replaces the global `Array` by one that records the largest size given to `new Array(size)`. */
function watchArrays(): { largest: () => number; restore: () => void } {
  const original = globalThis.Array;
  let largest = 0;
  globalThis.Array = new Proxy(original, {
    construct(target, args, newTarget) {
      if (args.length === 1 && typeof args[0] === 'number') largest = Math.max(largest, args[0]);
      return Reflect.construct(target, args, newTarget);
    },
  });
  return {
    largest: () => largest,
    restore: () => {
      globalThis.Array = original;
    },
  };
}

/**
 * The largest array reserved while `run` runs: the decoder creates arrays with `new Array(size)`,
 * which reserves memory before any element is read. What `run` throws is ignored.
 */
export function largestArrayReserved(run: () => unknown): number {
  const watch = watchArrays();
  try {
    run();
  } catch {
    // Only what was reserved matters here.
  } finally {
    watch.restore();
  }
  return watch.largest();
}

/** {@link largestArrayReserved} for an async `run` (nothing else may run meanwhile). */
export async function largestArrayReservedAsync(run: () => Promise<unknown>): Promise<number> {
  const watch = watchArrays();
  try {
    await run();
  } finally {
    watch.restore();
  }
  return watch.largest();
}

/**
 * Any bytes: the decoder returns a value only for one whole value that fills the bytes, which can
 * be encoded again; it throws an Error otherwise (never a stack overflow), and never reserves an
 * array larger than the input.
 */
export const decodeTarget: FuzzTarget<Uint8Array> = {
  name: 'msgpack: msgpackDecode',
  inputs: hostileMsgpack(msgpackValue),
  size: (bytes) => bytes.length,
  check(bytes) {
    const reserved = largestArrayReserved(() => msgpackDecode(bytes));
    assert.ok(reserved <= bytes.length, `an array of ${reserved} reserved for ${bytes.length} bytes`);
    let value: unknown;
    try {
      value = msgpackDecode(bytes);
    } catch (err) {
      assert.ok(err instanceof Error, `threw a non-Error ${String(err)}`);
      assert.doesNotMatch(err.message, /call stack/);
      return 'rejected';
    }
    const scan = scanValue(bytes);
    assert.deepEqual(scan, { kind: 'complete', end: bytes.length });
    // What was decoded can be written again (not always to equal bytes or value: an out-of-range
    // timestamp decodes to an Invalid Date, which encodes as 0).
    msgpackDecode(msgpackEncode(value));
    return 'accepted';
  },
};

/** Valid encodings: the bounds check finds each value whole at its exact end, and no prefix whole. */
export const scanTarget: FuzzTarget<{ bytes: Uint8Array; cut: number }> = {
  name: 'msgpack: scanValue on valid values',
  inputs: fc.tuple(msgpackValue, fc.nat()).map(([value, cut]) => {
    const bytes = msgpackEncode(value);
    return { bytes, cut: cut % bytes.length };
  }),
  size: ({ bytes }) => bytes.length,
  check({ bytes, cut }) {
    assert.deepEqual(scanValue(bytes), { kind: 'complete', end: bytes.length });
    assert.deepEqual(scanValue(bytes, 0, cut), { kind: 'incomplete' });
    return 'accepted';
  },
};

export function msgpackTargets(): AnyTarget[] {
  return [decodeTarget, scanTarget];
}
