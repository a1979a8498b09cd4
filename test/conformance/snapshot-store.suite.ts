import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/core/types.js';
import type { RaftStorage, SnapshotRecord } from '../../src/storage/types.js';
import { bytes, concat, expectCode, expectSameBytes, meta, readAll, type StoreFactory } from './helpers.js';

/**
 * Registers the SnapshotStore conformance tests for the store that `open` creates, which must use
 * the default retention of 2 snapshots.
 */
export function snapshotStoreConformance(name: string, open: StoreFactory): void {
  describe(`${name}: SnapshotStore`, () => {
    let store: RaftStorage;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close(true);
    });

    /** Writes a complete snapshot of `data`, split into chunks of `chunkSize` bytes. */
    async function snapshot(m: SnapshotMeta, data: Uint8Array, chunkSize = 1000): Promise<SnapshotRecord> {
      const sink = await store.create(m);
      for (let i = 0; i < data.length; i += chunkSize) await sink.write(data.subarray(i, i + chunkSize));
      return sink.close();
    }

    const ids = async (): Promise<string[]> => (await store.list()).map((r) => r.id);

    it('lists nothing in a new store', async () => {
      expect(await store.list()).toEqual([]);
    });

    it('keeps a snapshot invisible until its sink closes', async () => {
      const sink = await store.create(meta(10, 2));
      await sink.write(bytes(100));
      expect(await store.list()).toEqual([]);
      await expectCode(store.open(sink.id), 'INVALID_INPUT');
      const record = await sink.close();
      expect(record).toEqual({ id: sink.id, meta: meta(10, 2), size: 100 });
      expect(await store.list()).toEqual([record]);
    });

    it('round-trips multi-chunk data byte for byte', async () => {
      const data = bytes(700_000, 7);
      const sink = await store.create(meta(5));
      // Uneven chunk sizes, including one byte and one larger than a typical transport chunk.
      let offset = 0;
      for (const size of [1, 4096, 300_000, 17, 0, 250_000]) {
        await sink.write(data.subarray(offset, offset + size));
        offset += size;
      }
      await sink.write(data.subarray(offset));
      const record = await sink.close();
      expect(record.size).toBe(data.length);
      const opened = await store.open(record.id);
      expect(opened.record).toEqual(record);
      expectSameBytes(await readAll(opened.chunks), data);
      // The stream can be read again.
      expect((await readAll(opened.chunks)).length).toBe(data.length);
    });

    it('round-trips an empty snapshot', async () => {
      const record = await (await store.create(meta(3))).close();
      expect(record.size).toBe(0);
      expect((await readAll((await store.open(record.id)).chunks)).length).toBe(0);
    });

    it('discards a cancelled sink', async () => {
      const kept = await snapshot(meta(1), bytes(10));
      const sink = await store.create(meta(2));
      await sink.write(bytes(500));
      await sink.cancel();
      await sink.cancel();
      expect(await store.list()).toEqual([kept]);
      await expectCode(sink.write(bytes(1)), 'INVALID_INPUT');
      await expectCode(sink.close(), 'INVALID_INPUT');
      await expectCode(store.open(sink.id), 'INVALID_INPUT');
    });

    it('finishes a sink once: no writes or second close after close, cancel is then a no-op', async () => {
      const sink = await store.create(meta(2));
      await sink.write(bytes(5));
      const record = await sink.close();
      await expectCode(sink.write(bytes(1)), 'INVALID_INPUT');
      await expectCode(sink.close(), 'INVALID_INPUT');
      await sink.cancel();
      expect(await store.list()).toEqual([record]);
    });

    it('lists newest first, by index then term, whatever the creation order', async () => {
      const a = await snapshot(meta(10, 1), bytes(10, 1));
      const b = await snapshot(meta(5, 3), bytes(10, 2));
      expect(await ids()).toEqual([a.id, b.id]);
      const c = await snapshot(meta(10, 2), bytes(10, 3));
      expect(await ids()).toEqual([c.id, a.id]);
    });

    it('retains the 2 newest snapshots and deletes older ones on close', async () => {
      const records: SnapshotRecord[] = [];
      for (let i = 1; i <= 4; i++) records.push(await snapshot(meta(i * 10), bytes(3000, i)));
      expect(await ids()).toEqual([records[3]?.id, records[2]?.id]);
      await expectCode(store.open(records[0]?.id ?? ''), 'INVALID_INPUT');
      await expectCode(store.open(records[1]?.id ?? ''), 'INVALID_INPUT');
      const newest = await store.open(records[3]?.id ?? '');
      expect(await readAll(newest.chunks)).toEqual(bytes(3000, 4));
    });

    it('gives every snapshot a unique id, even for the same meta', async () => {
      const a = await snapshot(meta(7), bytes(10, 1));
      const b = await snapshot(meta(7), bytes(10, 2));
      expect(a.id).not.toBe(b.id);
      expect((await store.list()).map((r) => r.id).sort()).toEqual([a.id, b.id].sort());
      expect(await readAll((await store.open(b.id)).chunks)).toEqual(bytes(10, 2));
    });

    it('keeps concurrent sinks apart', async () => {
      const s1 = await store.create(meta(1));
      const s2 = await store.create(meta(2));
      await Promise.all([s1.write(bytes(100, 1)), s2.write(bytes(50, 2)), s1.write(bytes(100, 3))]);
      const [r1, r2] = await Promise.all([s1.close(), s2.close()]);
      expect(await readAll((await store.open(r1.id)).chunks)).toEqual(concat([bytes(100, 1), bytes(100, 3)]));
      expect(await readAll((await store.open(r2.id)).chunks)).toEqual(bytes(50, 2));
    });

    it('copies chunks in and out', async () => {
      const sink = await store.create(meta(1));
      const chunk = new Uint8Array([1, 2, 3]);
      await sink.write(chunk);
      chunk[0] = 99;
      const record = await sink.close();
      for await (const read of (await store.open(record.id)).chunks) read[1] = 99;
      expect(await readAll((await store.open(record.id)).chunks)).toEqual(new Uint8Array([1, 2, 3]));
    });

    it('rejects unknown ids, invalid metadata and non-byte chunks', async () => {
      await expectCode(store.open('0000000000000001-0000000000000001-0000000000000001'), 'INVALID_INPUT');
      await expectCode(store.open('nope'), 'INVALID_INPUT');
      await expectCode(store.open('../x'), 'INVALID_INPUT');
      for (const bad of [null, { ...meta(1), index: -1 }, { ...meta(1), config: { servers: [{ id: 1 }] } }]) {
        await expectCode(store.create(bad as SnapshotMeta), 'INVALID_INPUT');
      }
      const sink = await store.create(meta(1));
      await expectCode(sink.write('text' as unknown as Uint8Array), 'INVALID_INPUT');
      await sink.cancel();
    });

    it('rejects every call with SHUTDOWN after close', async () => {
      const record = await snapshot(meta(1), bytes(10));
      const sink = await store.create(meta(2));
      await store.close();
      await expectCode(store.list(), 'SHUTDOWN');
      await expectCode(store.create(meta(3)), 'SHUTDOWN');
      await expectCode(store.open(record.id), 'SHUTDOWN');
      await expectCode(sink.write(bytes(1)), 'SHUTDOWN');
      await expectCode(sink.close(), 'SHUTDOWN');
    });
  });
}
