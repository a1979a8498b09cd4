import { afterAll, describe, expect, it } from 'vitest';
import { RaftStore } from '../../src/storage/index.js';
import { bytes, concat, entries, meta, readAll } from '../conformance/helpers.js';
import { openRaw, rawKeys, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

describe('RaftStore persistence', () => {
  it('keeps log, hard state, stable values and snapshots across close and reopen', async () => {
    const dir = await tempDir();
    const store = await RaftStore.open(dir);
    await store.writeBatch({
      resetLog: false,
      entries: entries(1, 30),
      hardState: { term: 3, vote: 'b', commit: 25 },
    });
    await store.deleteRange(1, 10);
    await store.set('config', new Uint8Array([1, 2, 3]));
    await store.setUint64('LastVoteTerm', 2 ** 40);
    const sink = await store.create(meta(10, 2));
    await sink.write(bytes(5000, 1));
    await sink.write(bytes(3000, 2));
    const record = await sink.close();
    await store.close();

    const reopened = await RaftStore.open(dir);
    expect(await reopened.firstIndex()).toBe(11);
    expect(await reopened.lastIndex()).toBe(30);
    expect(await reopened.getLogs(1, 100)).toEqual(entries(11, 30));
    expect(await reopened.readHardState()).toEqual({ term: 3, vote: 'b', commit: 25 });
    expect(await reopened.get('config')).toEqual(new Uint8Array([1, 2, 3]));
    expect(await reopened.getUint64('LastVoteTerm')).toBe(2 ** 40);
    expect(await reopened.list()).toEqual([record]);
    expect(await readAll((await reopened.open(record.id)).chunks)).toEqual(
      concat([bytes(5000, 1), bytes(3000, 2)]),
    );
    await reopened.close(true);
  });

  it('survives an abandoned snapshot sink: the previous snapshot stays usable, stray chunks go on reopen', async () => {
    const dir = await tempDir();
    const store = await RaftStore.open(dir);
    const sink = await store.create(meta(5));
    await sink.write(bytes(2000, 5));
    const previous = await sink.close();

    // A crash mid-snapshot: chunks written, the database closed, the sink never closed.
    const abandoned = await store.create(meta(9));
    for (let i = 0; i < 5; i++) await abandoned.write(bytes(1000, 10 + i));
    await store.close();

    const raw = await openRaw(dir);
    const strayKeys = (await rawKeys(raw.snap)).filter((k) => k.includes(abandoned.id));
    expect(strayKeys.length).toBe(5);
    await raw.db.close();

    const reopened = await RaftStore.open(dir);
    expect(await reopened.list()).toEqual([previous]);
    expect(await readAll((await reopened.open(previous.id)).chunks)).toEqual(bytes(2000, 5));
    await expect(reopened.open(abandoned.id)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    // A new snapshot of the same index gets a fresh id, never the abandoned one.
    const next = await reopened.create(meta(9));
    expect(next.id).not.toBe(abandoned.id);
    await next.cancel();
    await reopened.close();

    const after = await openRaw(dir);
    const keys = await rawKeys(after.snap);
    expect(keys.filter((k) => k.includes(abandoned.id))).toEqual([]);
    expect(keys.every((k) => k.includes(previous.id))).toBe(true);
    await after.db.close();
  });

  it('removes chunks of snapshots deleted by retention', async () => {
    const dir = await tempDir();
    const store = await RaftStore.open(dir);
    const ids: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const sink = await store.create(meta(i));
      await sink.write(bytes(100, i));
      await sink.write(bytes(100, i + 10));
      ids.push((await sink.close()).id);
    }
    await store.close();
    const raw = await openRaw(dir);
    const keys = await rawKeys(raw.snap);
    await raw.db.close();
    // Two retained snapshots: one metadata record and two chunks each.
    expect(keys.length).toBe(6);
    expect(keys.filter((k) => k.includes(ids[0] ?? '?') || k.includes(ids[1] ?? '?'))).toEqual([]);
  });
});

describe('RaftStore sessions', () => {
  it('ends sinks and readers at close, even when the store is reopened', async () => {
    const dir = await tempDir();
    const store = await RaftStore.open(dir);
    const done = await store.create(meta(1));
    await done.write(bytes(10));
    const record = await done.close();
    const { chunks } = await store.open(record.id);
    const sink = await store.create(meta(2));
    await sink.write(bytes(10));
    await store.close();
    await store.open();
    await expect(sink.write(bytes(10))).rejects.toMatchObject({ code: 'SHUTDOWN' });
    await expect(sink.close()).rejects.toMatchObject({ code: 'SHUTDOWN' });
    await expect(readAll(chunks)).rejects.toMatchObject({ code: 'SHUTDOWN' });
    expect(await store.list()).toEqual([record]);
    await store.close(true);
  });
});
