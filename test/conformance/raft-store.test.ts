import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RaftStore } from '../../src/storage/index.js';
import { batchingStoreConformance } from './batching-store.suite.js';
import { bytes, entries, expectCode, meta } from './helpers.js';
import { logStoreConformance } from './log-store.suite.js';
import { snapshotStoreConformance } from './snapshot-store.suite.js';
import { stableStoreConformance } from './stable-store.suite.js';

const dirs: string[] = [];

/** A fresh RaftStore in its own temporary directory; the suite's `close(true)` deletes the directory. */
async function openOnDisk(): Promise<RaftStore> {
  const dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-store-'));
  dirs.push(dir);
  return RaftStore.open(dir);
}

const openInMemory = () => RaftStore.open('');

afterAll(async () => {
  // Safety net for a test that failed before its close(true).
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

for (const [name, open] of [
  ['RaftStore (LevelDB)', openOnDisk],
  ['RaftStore (memory)', openInMemory],
] as const) {
  logStoreConformance(name, open);
  stableStoreConformance(name, open);
  batchingStoreConformance(name, open);
  snapshotStoreConformance(name, open);
}

describe('RaftStore lifecycle', () => {
  it('supports new RaftStore(location) + open(), and open() twice is harmless', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-store-'));
    dirs.push(dir);
    const store = new RaftStore(dir);
    await expectCode(store.lastIndex(), 'SHUTDOWN');
    await Promise.all([store.open(), store.open()]);
    await store.open();
    await store.storeLogs(entries(1, 3));
    expect(await store.lastIndex()).toBe(3);
    await store.close(true);
    await expect(readdir(dir)).rejects.toThrow();
  });

  it('reopens after close, keeping data on disk', async () => {
    const store = await openOnDisk();
    await store.storeLogs(entries(1, 3));
    await store.close();
    await store.open();
    expect(await store.lastIndex()).toBe(3);
    await store.close(true);
  });

  it('keeps memory-mode data across close() and drops it with close(true)', async () => {
    const store = await RaftStore.open('');
    await store.storeLogs(entries(1, 3));
    await store.close();
    await store.open();
    expect(await store.lastIndex()).toBe(3);
    await store.close(true);
    await store.open();
    expect(await store.lastIndex()).toBe(0);
    await store.close(true);
  });

  it('waits for writes in flight before closing', async () => {
    const store = await openOnDisk();
    const writes = [1, 2, 3].map((i) => store.storeLogs(entries(i, i)));
    await store.close();
    await Promise.all(writes);
    await store.open();
    expect(await store.lastIndex()).toBe(3);
    await store.close(true);
  });

  it('honours retainSnapshots', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-store-'));
    dirs.push(dir);
    const store = await RaftStore.open(dir, { retainSnapshots: 1 });
    for (let i = 1; i <= 3; i++) {
      const sink = await store.create(meta(i));
      await sink.write(bytes(10, i));
      await sink.close();
    }
    expect((await store.list()).map((r) => r.meta.index)).toEqual([3]);
    await store.close(true);
  });

  it('refuses invalid options and locations', () => {
    expect(() => new RaftStore('', { retainSnapshots: 0 })).toThrowError(/retainSnapshots/);
    expect(() => new RaftStore(5 as unknown as string)).toThrowError(/location/);
  });
});
