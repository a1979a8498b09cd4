import { decode, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/types.js';
import { isRaftError } from '../../src/errors.js';
import {
  decodeEntry,
  decodeFramed,
  decodeHardState,
  decodeStoredSnapshot,
  encodeEntry,
  encodeFramed,
  encodeHardState,
  encodeStoredSnapshot,
} from '../../src/storage/codec.js';
import { crc32c } from '../../src/storage/crc32c.js';
import { bytes, meta } from '../conformance/helpers.js';

/** Runs `decode` and returns the error code it failed with (a non-RaftError fails the test). */
function failureCode(decode: () => unknown): string | undefined {
  try {
    decode();
    return undefined;
  } catch (err) {
    if (!isRaftError(err)) throw err;
    return err.code;
  }
}

const sample: Entry = { index: 42, term: 7, type: 'config', data: new Uint8Array([1, 2, 3, 250]) };

describe('entry codec', () => {
  it('round-trips every entry type and extreme values', () => {
    for (const type of ['command', 'noop', 'config', 'barrier'] as const) {
      const e: Entry = { ...sample, type };
      expect(decodeEntry(encodeEntry(e), 42)).toEqual(e);
    }
    const big: Entry = {
      index: Number.MAX_SAFE_INTEGER,
      term: Number.MAX_SAFE_INTEGER,
      type: 'noop',
      data: bytes(0),
    };
    expect(decodeEntry(encodeEntry(big), Number.MAX_SAFE_INTEGER)).toEqual(big);
  });

  it('stores { i, t, k, d, c } with c = CRC-32C(index ‖ term ‖ type code ‖ data)', () => {
    const header = new Uint8Array(17);
    const view = new DataView(header.buffer);
    view.setBigUint64(0, 42n);
    view.setBigUint64(8, 7n);
    header[16] = 2; // 'config'
    const c = crc32c(sample.data, crc32c(header));
    expect(encodeEntry(sample)).toEqual(encode({ i: 42, t: 7, k: 2, d: sample.data, c }));
  });

  it('rejects an entry read under another index, naming the index', () => {
    expect(() => decodeEntry(encodeEntry(sample), 43)).toThrowError(/entry 43 holds entry 42/);
  });

  it('turns every single-byte change into CORRUPTION', () => {
    const encoded = encodeEntry(sample);
    for (let i = 0; i < encoded.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const damaged = new Uint8Array(encoded);
        damaged[i] = (damaged[i] ?? 0) ^ mask;
        expect(
          failureCode(() => decodeEntry(damaged, 42)),
          `byte ${i} ^ ${mask}`,
        ).toBe('CORRUPTION');
      }
    }
  });

  it('turns garbage and wrong shapes into CORRUPTION, never a TypeError', () => {
    const shapes: unknown[] = [
      null,
      42,
      'text',
      [1, 2, 3],
      {},
      { i: 42, t: 7, k: 9, d: new Uint8Array(0), c: 0 },
      { i: 42, t: -1, k: 0, d: new Uint8Array(0), c: 0 },
      { i: 42, t: 7, k: 0, d: 'x', c: 0 },
      { i: '42', t: 7, k: 0, d: new Uint8Array(0), c: 0 },
      { i: 42, t: 7, k: 0, d: new Uint8Array(0) },
    ];
    for (const shape of shapes) expect(failureCode(() => decodeEntry(encode(shape), 42))).toBe('CORRUPTION');
    for (let seed = 1; seed <= 500; seed++) {
      expect(failureCode(() => decodeEntry(bytes(seed % 40, seed), 1))).toBe('CORRUPTION');
    }
  });
});

describe('hard state and snapshot record codecs', () => {
  it('round-trip', () => {
    for (const hs of [
      { term: 0, vote: null, commit: 0 },
      { term: 5, vote: 'node-1', commit: Number.MAX_SAFE_INTEGER },
    ]) {
      expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
    }
    const stored = { meta: meta(9, 3), size: 123, chunks: 2, crc: 0xdeadbeef };
    expect(decodeStoredSnapshot(encodeStoredSnapshot(stored), 'x')).toEqual(stored);
  });

  it('turn damage and wrong shapes into CORRUPTION', () => {
    const encoded = encodeHardState({ term: 5, vote: 'n', commit: 3 });
    for (let i = 0; i < encoded.length; i++) {
      const damaged = new Uint8Array(encoded);
      damaged[i] = (damaged[i] ?? 0) ^ 0x10;
      expect(failureCode(() => decodeHardState(damaged))).toBe('CORRUPTION');
    }
    // A well-sealed record whose body has the wrong shape.
    const body = encode({ term: 'five', vote: null, commit: 0 });
    expect(failureCode(() => decodeHardState(encode({ b: body, c: crc32c(body) })))).toBe('CORRUPTION');
    const snapBody = encode({ meta: { index: 1 }, size: 1, chunks: 1, crc: 1 });
    const sealed = encode({ b: snapBody, c: crc32c(snapBody) });
    expect(failureCode(() => decodeStoredSnapshot(sealed, 'x'))).toBe('CORRUPTION');
    for (let seed = 1; seed <= 200; seed++) {
      expect(failureCode(() => decodeStoredSnapshot(bytes(seed % 30, seed), 'x'))).toBe('CORRUPTION');
    }
  });
});

describe('framed values', () => {
  it('round-trip and bind the payload to its key', () => {
    const key = new Uint8Array([1, 2]);
    const framed = encodeFramed(key, bytes(100));
    expect(decodeFramed(key, framed, 'v')).toEqual(bytes(100));
    expect(failureCode(() => decodeFramed(new Uint8Array([1, 3]), framed, 'v'))).toBe('CORRUPTION');
    expect(failureCode(() => decodeFramed(key, framed.subarray(0, 3), 'v'))).toBe('CORRUPTION');
    const damaged = new Uint8Array(framed);
    damaged[50] = (damaged[50] ?? 0) ^ 1;
    expect(failureCode(() => decodeFramed(key, damaged, 'v'))).toBe('CORRUPTION');
  });
});

describe('entry codec: what the checksum covers (mutation testing)', () => {
  /** The entry's stored map, changed by `edit`, encoded again with its checksum left as it was. */
  function tampered(entry: Entry, edit: Record<string, unknown>): Uint8Array {
    const stored = decode(encodeEntry(entry)) as Record<string, unknown>;
    return encode({ ...stored, ...edit });
  }

  it('covers the high 32 bits of the index and of the term', () => {
    const e: Entry = { index: 5, term: 7, type: 'command', data: new TextEncoder().encode('x') };
    const high = 2 ** 32;
    expect(failureCode(() => decodeEntry(tampered(e, { i: 5 + high }), 5 + high))).toBe('CORRUPTION');
    expect(failureCode(() => decodeEntry(tampered(e, { t: 7 + high }), 5))).toBe('CORRUPTION');
    // And entries that big round-trip.
    const big: Entry = { index: 3 * high + 5, term: 2 * high + 1, type: 'noop', data: new Uint8Array() };
    expect(decodeEntry(encodeEntry(big), big.index)).toEqual(big);
  });

  it('refuses an entry type code beyond the known types, even with a matching checksum', () => {
    const data = new TextEncoder().encode('y');
    for (const k of [4, 5]) {
      // The checksum as the codec computes it: index and term as 8 bytes big-endian, the type code, then the data.
      const header = new Uint8Array(17);
      const view = new DataView(header.buffer);
      view.setUint32(4, 9);
      view.setUint32(12, 2);
      header[16] = k;
      const c = crc32c(data, crc32c(header));
      const stored = encode({ i: 9, t: 2, k, d: data, c });
      expect(failureCode(() => decodeEntry(stored, 9))).toBe('CORRUPTION');
    }
  });
});
