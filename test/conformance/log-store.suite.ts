import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/types.js';
import type { RaftStorage } from '../../src/storage/types.js';
import { BAD_INDEXES, entries, entry, expectCode, expectSameBytes, type StoreFactory } from './helpers.js';

/** Registers the LogStore conformance tests for the store that `open` creates. */
export function logStoreConformance(name: string, open: StoreFactory): void {
  describe(`${name}: LogStore`, () => {
    let store: RaftStorage;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close(true);
    });

    it('reports an empty log as first = last = 0', async () => {
      expect(await store.firstIndex()).toBe(0);
      expect(await store.lastIndex()).toBe(0);
      expect(await store.getLog(1)).toBeUndefined();
      expect(await store.getLogs(1, 100)).toEqual([]);
    });

    it('stores and reads one entry', async () => {
      await store.storeLog(entry(1, 3, 'noop'));
      expect(await store.getLog(1)).toEqual(entry(1, 3, 'noop'));
      expect(await store.firstIndex()).toBe(1);
      expect(await store.lastIndex()).toBe(1);
    });

    it('stores many entries and reads them back with every type intact', async () => {
      const written: Entry[] = [
        entry(1, 1, 'command'),
        entry(2, 1, 'noop'),
        entry(3, 2, 'config'),
        entry(4, 2, 'barrier'),
        ...entries(5, 50, 3),
      ];
      await store.storeLogs(written);
      expect(await store.firstIndex()).toBe(1);
      expect(await store.lastIndex()).toBe(50);
      expect(await store.getLogs(1, 50)).toEqual(written);
      for (const e of written) expect(await store.getLog(e.index)).toEqual(e);
    });

    it('starts a log at any index (after a snapshot)', async () => {
      await store.storeLogs(entries(100, 110));
      expect(await store.firstIndex()).toBe(100);
      expect(await store.lastIndex()).toBe(110);
      expect(await store.getLog(99)).toBeUndefined();
    });

    it('handles the largest safe index', async () => {
      const max = Number.MAX_SAFE_INTEGER;
      await store.storeLogs([entry(max - 1), entry(max)]);
      expect(await store.firstIndex()).toBe(max - 1);
      expect(await store.lastIndex()).toBe(max);
      expect(await store.getLog(max)).toEqual(entry(max));
    });

    it('round-trips empty and large data', async () => {
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 0xff);
      await store.storeLogs([
        { index: 1, term: 1, type: 'noop', data: new Uint8Array(0) },
        { ...entry(2), data: big },
      ]);
      expect((await store.getLog(1))?.data).toEqual(new Uint8Array(0));
      expectSameBytes((await store.getLog(2))?.data, big);
    });

    it('returns ranges of getLogs clipped to what is stored', async () => {
      await store.storeLogs(entries(10, 20));
      expect(await store.getLogs(12, 14)).toEqual(entries(12, 14));
      expect(await store.getLogs(1, 11)).toEqual(entries(10, 11));
      expect(await store.getLogs(19, 1000)).toEqual(entries(19, 20));
      expect(await store.getLogs(15, 15)).toEqual([entry(15)]);
      expect(await store.getLogs(21, 30)).toEqual([]);
      expect(await store.getLogs(15, 14)).toEqual([]);
    });

    it('replaces the entry at an index', async () => {
      await store.storeLogs(entries(1, 5));
      await store.storeLog(entry(3, 9));
      expect(await store.getLog(3)).toEqual(entry(3, 9));
      await store.storeLogs([entry(4, 9), entry(5, 9), entry(6, 9)]);
      expect(await store.getLogs(1, 6)).toEqual([
        entry(1),
        entry(2),
        entry(3, 9),
        entry(4, 9),
        entry(5, 9),
        entry(6, 9),
      ]);
    });

    it('extends the log at either end', async () => {
      await store.storeLogs(entries(5, 6));
      await store.storeLog(entry(7));
      await store.storeLog(entry(4));
      expect(await store.firstIndex()).toBe(4);
      expect(await store.lastIndex()).toBe(7);
    });

    it('refuses writes that would leave a gap, writing nothing', async () => {
      await store.storeLogs(entries(5, 6));
      await expectCode(store.storeLog(entry(8)), 'INVALID_INPUT');
      await expectCode(store.storeLog(entry(3)), 'INVALID_INPUT');
      await expectCode(store.storeLogs([entry(7), entry(9)]), 'INVALID_INPUT');
      await expectCode(store.storeLogs([entry(7), entry(7)]), 'INVALID_INPUT');
      expect(await store.getLogs(1, 10)).toEqual(entries(5, 6));
    });

    it('deletes a suffix, inclusive at both ends', async () => {
      await store.storeLogs(entries(1, 10));
      await store.deleteRange(8, 10);
      expect(await store.lastIndex()).toBe(7);
      expect(await store.getLog(8)).toBeUndefined();
      expect(await store.getLog(7)).toEqual(entry(7));
      await store.deleteRange(7, 7);
      expect(await store.lastIndex()).toBe(6);
    });

    it('deletes a prefix, inclusive at both ends', async () => {
      await store.storeLogs(entries(1, 10));
      await store.deleteRange(1, 3);
      expect(await store.firstIndex()).toBe(4);
      expect(await store.getLog(3)).toBeUndefined();
      expect(await store.getLog(4)).toEqual(entry(4));
      expect(await store.lastIndex()).toBe(10);
    });

    it('deletes everything, and ranges reaching past the stored ends', async () => {
      await store.storeLogs(entries(5, 10));
      await store.deleteRange(1, 6);
      expect(await store.firstIndex()).toBe(7);
      await store.deleteRange(9, 1000);
      expect(await store.lastIndex()).toBe(8);
      await store.deleteRange(1, Number.MAX_SAFE_INTEGER);
      expect(await store.firstIndex()).toBe(0);
      expect(await store.lastIndex()).toBe(0);
      await store.storeLogs(entries(20, 21));
      expect(await store.firstIndex()).toBe(20);
    });

    it('treats disjoint and empty delete ranges as no-ops', async () => {
      await store.storeLogs(entries(5, 10));
      await store.deleteRange(1, 4);
      await store.deleteRange(11, 20);
      await store.deleteRange(8, 7);
      expect(await store.getLogs(1, 20)).toEqual(entries(5, 10));
    });

    it('refuses to delete from the middle (it would split the log)', async () => {
      await store.storeLogs(entries(1, 10));
      await expectCode(store.deleteRange(4, 6), 'INVALID_INPUT');
      expect(await store.getLogs(1, 10)).toEqual(entries(1, 10));
    });

    it('rejects invalid indexes with INVALID_INPUT', async () => {
      for (const bad of BAD_INDEXES) {
        const index = bad as number;
        await expectCode(store.getLog(index), 'INVALID_INPUT');
        await expectCode(store.getLogs(index, 5), 'INVALID_INPUT');
        await expectCode(store.getLogs(1, index), 'INVALID_INPUT');
        await expectCode(store.deleteRange(index, 5), 'INVALID_INPUT');
        await expectCode(store.deleteRange(1, index), 'INVALID_INPUT');
        await expectCode(store.storeLog({ ...entry(1), index }), 'INVALID_INPUT');
      }
      expect(await store.lastIndex()).toBe(0);
    });

    it('rejects malformed entries with INVALID_INPUT', async () => {
      const bad: unknown[] = [
        null,
        { ...entry(1), term: -1 },
        { ...entry(1), term: 0.5 },
        { ...entry(1), type: 'weird' },
        { ...entry(1), data: 'text' },
        { ...entry(1), data: [1, 2] },
      ];
      for (const e of bad) await expectCode(store.storeLog(e as Entry), 'INVALID_INPUT');
      await expectCode(store.storeLogs('nope' as unknown as Entry[]), 'INVALID_INPUT');
      await expectCode(store.storeLogs([entry(1), bad[1] as Entry]), 'INVALID_INPUT');
      expect(await store.lastIndex()).toBe(0);
    });

    it('copies data in and out', async () => {
      const written = entry(1);
      const data = new Uint8Array([1, 2, 3]);
      await store.storeLog({ ...written, data });
      data[0] = 99;
      const read = await store.getLog(1);
      expect(read?.data).toEqual(new Uint8Array([1, 2, 3]));
      if (read !== undefined) (read.data as Uint8Array)[1] = 99;
      const [ranged] = await store.getLogs(1, 1);
      if (ranged !== undefined) (ranged.data as Uint8Array)[2] = 99;
      expect((await store.getLog(1))?.data).toEqual(new Uint8Array([1, 2, 3]));
    });

    it('rejects every call with SHUTDOWN after close', async () => {
      await store.storeLogs(entries(1, 3));
      await store.close();
      await expectCode(store.firstIndex(), 'SHUTDOWN');
      await expectCode(store.lastIndex(), 'SHUTDOWN');
      await expectCode(store.getLog(1), 'SHUTDOWN');
      await expectCode(store.getLogs(1, 3), 'SHUTDOWN');
      await expectCode(store.storeLog(entry(4)), 'SHUTDOWN');
      await expectCode(store.storeLogs(entries(4, 5)), 'SHUTDOWN');
      await expectCode(store.deleteRange(1, 1), 'SHUTDOWN');
    });
  });
}
