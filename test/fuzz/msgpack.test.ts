import { describe, expect, it } from 'vitest';
import { msgpackDecode, msgpackEncode } from '../../src/msgpack.js';
import { MAX_MSGPACK_DEPTH } from '../../src/msgpack-scan.js';
import { assertTarget } from './support/target.js';
import { decodeTarget, largestArrayReserved, scanTarget } from './targets/msgpack.js';

/** `header` repeated `depth` times, then nil. */
function nested(header: number[], depth: number): Uint8Array {
  return Uint8Array.from([...Array.from({ length: depth }, () => header).flat(), 0xc0]);
}

describe('fuzz: the shared msgpack decoder', () => {
  it('reserves no array larger than its input for nested headers declaring 16,000 elements each', () => {
    // 3,000 nested arrays declaring 16,000 elements each: 9 KB that made the decoder hold 385 MB.
    const bytes = nested([0xdc, 0x3e, 0x80], 3000);
    expect(largestArrayReserved(() => msgpackDecode(bytes))).toBe(0);
    expect(() => msgpackDecode(bytes)).toThrow(RangeError);
  });

  it('refuses a value nested deeper than the encoder writes, and decodes one as deep as it writes', () => {
    expect(() => msgpackDecode(nested([0x91], MAX_MSGPACK_DEPTH))).toThrow(/nested deeper than 100/);
    let deepest: unknown = null;
    for (let i = 1; i < MAX_MSGPACK_DEPTH; i++) deepest = [deepest];
    expect(msgpackDecode(msgpackEncode(deepest))).toEqual(deepest);
    expect(() => msgpackEncode([deepest])).toThrow(/Too deep/);
  });

  it('decodes hostile bytes to a whole value or an Error, without reserving more than the input', async () => {
    const counts = await assertTarget(decodeTarget);
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.rejected).toBeGreaterThan(0);
  });

  it('finds every valid value whole at its end and no prefix of it whole', async () => {
    expect((await assertTarget(scanTarget)).accepted).toBeGreaterThan(0);
  });
});
