import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RaftStorage, StableKey } from '../../src/storage/types.js';
import { expectCode, type StoreFactory } from './helpers.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Registers the StableStore conformance tests for the store that `open` creates. */
export function stableStoreConformance(name: string, open: StoreFactory): void {
  describe(`${name}: StableStore`, () => {
    let store: RaftStorage;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close(true);
    });

    it('returns undefined for a missing key, distinct from an empty value', async () => {
      expect(await store.get('missing')).toBeUndefined();
      expect(await store.getUint64('missing')).toBeUndefined();
      await store.set('empty', new Uint8Array(0));
      const empty = await store.get('empty');
      expect(empty).toBeInstanceOf(Uint8Array);
      expect(empty?.length).toBe(0);
    });

    it('sets, gets and overwrites values', async () => {
      await store.set('a', new Uint8Array([1, 2, 3]));
      await store.set('b', new Uint8Array([4]));
      expect(await store.get('a')).toEqual(new Uint8Array([1, 2, 3]));
      await store.set('a', new Uint8Array([9]));
      expect(await store.get('a')).toEqual(new Uint8Array([9]));
      expect(await store.get('b')).toEqual(new Uint8Array([4]));
    });

    it('treats a string key and its UTF-8 bytes as the same key', async () => {
      await store.set('CurrentTerm', new Uint8Array([1]));
      expect(await store.get(utf8('CurrentTerm'))).toEqual(new Uint8Array([1]));
      await store.set(utf8('ключ-🔑'), new Uint8Array([2]));
      expect(await store.get('ключ-🔑')).toEqual(new Uint8Array([2]));
      await store.setUint64(utf8('n'), 7);
      expect(await store.getUint64('n')).toBe(7);
    });

    it('accepts an empty key and binary keys', async () => {
      await store.set('', new Uint8Array([5]));
      await store.set(new Uint8Array([0, 255, 0]), new Uint8Array([6]));
      expect(await store.get(new Uint8Array(0))).toEqual(new Uint8Array([5]));
      expect(await store.get(new Uint8Array([0, 255, 0]))).toEqual(new Uint8Array([6]));
      expect(await store.get(new Uint8Array([0, 255]))).toBeUndefined();
    });

    it('round-trips uint64 values up to 2^53 - 1', async () => {
      for (const value of [0, 1, 255, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]) {
        await store.setUint64('v', value);
        expect(await store.getUint64('v')).toBe(value);
      }
    });

    it('rejects values setUint64 cannot store, keeping the old value', async () => {
      await store.setUint64('v', 5);
      for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '5', null]) {
        await expectCode(store.setUint64('v', bad as number), 'INVALID_INPUT');
      }
      expect(await store.getUint64('v')).toBe(5);
    });

    it('rejects a uint64 read of a value that is not one', async () => {
      await store.set('short', new Uint8Array([1, 2, 3]));
      await expectCode(store.getUint64('short'), 'INVALID_INPUT');
    });

    it('rejects keys that are neither strings nor bytes, and values that are not bytes', async () => {
      const badKeys: unknown[] = [1, null, undefined, { key: 'a' }, [1, 2]];
      for (const bad of badKeys) {
        const key = bad as StableKey;
        await expectCode(store.set(key, new Uint8Array([1])), 'INVALID_INPUT');
        await expectCode(store.get(key), 'INVALID_INPUT');
        await expectCode(store.setUint64(key, 1), 'INVALID_INPUT');
        await expectCode(store.getUint64(key), 'INVALID_INPUT');
      }
      const badValues: unknown[] = ['text', [1, 2], null, 5];
      for (const bad of badValues) {
        await expectCode(store.set('k', bad as Uint8Array), 'INVALID_INPUT');
      }
      expect(await store.get('k')).toBeUndefined();
    });

    it('copies values in and out', async () => {
      const value = new Uint8Array([1, 2, 3]);
      await store.set('k', value);
      value[0] = 99;
      const read = await store.get('k');
      expect(read).toEqual(new Uint8Array([1, 2, 3]));
      if (read !== undefined) read[1] = 99;
      expect(await store.get('k')).toEqual(new Uint8Array([1, 2, 3]));
    });

    it('keeps user keys apart from the hard state', async () => {
      await store.writeBatch({ resetLog: false, entries: [], hardState: { term: 4, vote: 'a', commit: 2 } });
      for (const key of ['r/hardState', 'hardState', 'u/r/hardState', ''])
        await store.set(key, new Uint8Array([1]));
      expect(await store.readHardState()).toEqual({ term: 4, vote: 'a', commit: 2 });
      expect(await store.get('r/hardState')).toEqual(new Uint8Array([1]));
    });

    it('rejects every call with SHUTDOWN after close', async () => {
      await store.set('k', new Uint8Array([1]));
      await store.close();
      await expectCode(store.set('k', new Uint8Array([2])), 'SHUTDOWN');
      await expectCode(store.get('k'), 'SHUTDOWN');
      await expectCode(store.setUint64('n', 1), 'SHUTDOWN');
      await expectCode(store.getUint64('n'), 'SHUTDOWN');
    });
  });
}
