import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/storage/crc32c.js';

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const filled = (length: number, f: (i: number) => number): Uint8Array =>
  Uint8Array.from({ length }, (_, i) => f(i));

/** The plain bit-by-bit definition, to check the table-driven implementation against. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

describe('crc32c', () => {
  it('equals the bit-by-bit definition for every length and alignment', () => {
    const data = filled(300, (i) => (i * 131 + 7) & 0xff);
    for (let start = 0; start < 9; start++) {
      for (let length = 0; start + length <= data.length; length += length < 40 ? 1 : 37) {
        const part = data.subarray(start, start + length);
        expect(crc32c(part)).toBe(reference(part));
      }
    }
  });

  it('matches the standard check value and the RFC 3720 (iSCSI) vectors', () => {
    expect(crc32c(ascii('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(filled(32, () => 0x00))).toBe(0x8a9136aa);
    expect(crc32c(filled(32, () => 0xff))).toBe(0x62a8ab43);
    expect(crc32c(filled(32, (i) => i))).toBe(0x46dd794e);
    expect(crc32c(filled(32, (i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('continues from a previous result as if over the concatenation', () => {
    const data = filled(1000, (i) => (i * 7919) & 0xff);
    const whole = crc32c(data);
    for (const cut of [0, 1, 17, 500, 999, 1000]) {
      expect(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut)))).toBe(whole);
    }
  });

  it('returns an unsigned 32-bit integer and notices a single flipped bit', () => {
    const data = ascii('the quick brown fox');
    const crc = crc32c(data);
    expect(Number.isInteger(crc) && crc >= 0 && crc <= 0xffffffff).toBe(true);
    for (let bit = 0; bit < data.length * 8; bit++) {
      const flipped = new Uint8Array(data);
      flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      expect(crc32c(flipped)).not.toBe(crc);
    }
  });
});
