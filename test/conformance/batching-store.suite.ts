import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HardState } from '../../src/core/types.js';
import type { RaftStorage, StorageBatch } from '../../src/storage/types.js';
import { entries, entry, expectCode, type StoreFactory } from './helpers.js';

const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });

/** Registers the BatchingStore (writeBatch, readHardState) conformance tests for the store that `open` creates. */
export function batchingStoreConformance(name: string, open: StoreFactory): void {
  describe(`${name}: BatchingStore`, () => {
    let store: RaftStorage;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close(true);
    });

    it('reads the initial hard state before any is written', async () => {
      expect(await store.readHardState()).toEqual({ term: 0, vote: null, commit: 0 });
    });

    it('round-trips the hard state, and keeps it when a batch carries none', async () => {
      await store.writeBatch({ resetLog: false, entries: [], hardState: hs(3, 'node-b', 7) });
      expect(await store.readHardState()).toEqual(hs(3, 'node-b', 7));
      await store.writeBatch({ resetLog: false, entries: entries(1, 2), hardState: null });
      expect(await store.readHardState()).toEqual(hs(3, 'node-b', 7));
      await store.writeBatch({ resetLog: false, entries: [], hardState: hs(4, null, 7) });
      expect(await store.readHardState()).toEqual(hs(4, null, 7));
      const big = hs(Number.MAX_SAFE_INTEGER, 'x'.repeat(300), Number.MAX_SAFE_INTEGER);
      await store.writeBatch({ resetLog: false, entries: [], hardState: big });
      expect(await store.readHardState()).toEqual(big);
    });

    it('appends entries and the hard state together', async () => {
      await store.writeBatch({ resetLog: false, entries: entries(1, 3), hardState: hs(1, 'a', 0) });
      await store.writeBatch({ resetLog: false, entries: entries(4, 6), hardState: hs(1, 'a', 3) });
      expect(await store.getLogs(1, 10)).toEqual(entries(1, 6));
      expect(await store.readHardState()).toEqual(hs(1, 'a', 3));
    });

    it('truncates from entries[0].index: a shorter rewrite removes the old tail', async () => {
      await store.writeBatch({ resetLog: false, entries: entries(1, 10), hardState: null });
      await store.writeBatch({ resetLog: false, entries: entries(5, 6, 2), hardState: hs(2, null, 4) });
      expect(await store.lastIndex()).toBe(6);
      expect(await store.getLogs(1, 10)).toEqual([...entries(1, 4), ...entries(5, 6, 2)]);
      expect(await store.getLog(7)).toBeUndefined();
    });

    it('truncates below the first stored index by replacing the whole log', async () => {
      await store.writeBatch({ resetLog: false, entries: entries(5, 10), hardState: null });
      await store.writeBatch({ resetLog: false, entries: entries(3, 4, 2), hardState: null });
      expect(await store.firstIndex()).toBe(3);
      expect(await store.lastIndex()).toBe(4);
    });

    it('drops every entry with resetLog, before writing the new ones', async () => {
      await store.writeBatch({ resetLog: false, entries: entries(1, 10), hardState: null });
      await store.writeBatch({ resetLog: true, entries: [], hardState: hs(2, null, 20) });
      expect(await store.firstIndex()).toBe(0);
      expect(await store.lastIndex()).toBe(0);
      await store.writeBatch({ resetLog: false, entries: entries(1, 10), hardState: null });
      await store.writeBatch({ resetLog: true, entries: entries(21, 22, 3), hardState: null });
      expect(await store.getLogs(1, 100)).toEqual(entries(21, 22, 3));
      await store.writeBatch({ resetLog: true, entries: entries(22, 23, 4), hardState: null });
      expect(await store.getLogs(1, 100)).toEqual(entries(22, 23, 4));
      expect(await store.readHardState()).toEqual(hs(2, null, 20));
    });

    it('treats an empty batch as a no-op', async () => {
      await store.writeBatch({ resetLog: false, entries: entries(1, 2), hardState: hs(1, null, 1) });
      await store.writeBatch({ resetLog: false, entries: [], hardState: null });
      expect(await store.getLogs(1, 5)).toEqual(entries(1, 2));
      expect(await store.readHardState()).toEqual(hs(1, null, 1));
    });

    it('refuses a batch that would leave a gap or is malformed, writing none of it', async () => {
      await store.writeBatch({ resetLog: false, entries: entries(1, 3), hardState: hs(1, null, 1) });
      const bad: unknown[] = [
        { resetLog: false, entries: entries(5, 6), hardState: hs(9, null, 9) },
        { resetLog: false, entries: [entry(4), entry(6)], hardState: hs(9, null, 9) },
        { resetLog: false, entries: [entry(4), { ...entry(5), type: 'x' }], hardState: hs(9, null, 9) },
        { resetLog: false, entries: entries(4, 5), hardState: hs(-1, null, 9) },
        { resetLog: false, entries: entries(4, 5), hardState: { term: 9, vote: 5, commit: 9 } },
        { resetLog: false, entries: entries(4, 5), hardState: { term: 9, vote: null, commit: 1.5 } },
        { resetLog: false, entries: entries(4, 5), hardState: { term: 9, vote: null } },
        { resetLog: 'yes', entries: entries(4, 5), hardState: null },
        { resetLog: false, entries: 'none', hardState: null },
        null,
      ];
      for (const batch of bad) await expectCode(store.writeBatch(batch as StorageBatch), 'INVALID_INPUT');
      expect(await store.getLogs(1, 10)).toEqual(entries(1, 3));
      expect(await store.readHardState()).toEqual(hs(1, null, 1));
    });

    it('copies the data it is given', async () => {
      const written = entry(1);
      const data = new Uint8Array([1, 2]);
      const pending = store.writeBatch({ resetLog: false, entries: [{ ...written, data }], hardState: null });
      data[0] = 99;
      await pending;
      expect((await store.getLog(1))?.data).toEqual(new Uint8Array([1, 2]));
    });

    it('applies concurrent batches in call order', async () => {
      await Promise.all([
        store.writeBatch({ resetLog: false, entries: entries(1, 5), hardState: hs(1, null, 0) }),
        store.writeBatch({ resetLog: false, entries: entries(3, 4, 2), hardState: hs(2, null, 2) }),
        store.writeBatch({ resetLog: false, entries: entries(5, 6, 2), hardState: hs(2, null, 4) }),
      ]);
      expect(await store.getLogs(1, 10)).toEqual([...entries(1, 2), ...entries(3, 6, 2)]);
      expect(await store.readHardState()).toEqual(hs(2, null, 4));
    });

    it('rejects every call with SHUTDOWN after close', async () => {
      await store.close();
      await expectCode(
        store.writeBatch({ resetLog: false, entries: entries(1, 1), hardState: null }),
        'SHUTDOWN',
      );
      await expectCode(store.readHardState(), 'SHUTDOWN');
    });
  });
}
