import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/storage/index.js';
import { batchingStoreConformance } from './batching-store.suite.js';
import { bytes, expectCode, meta } from './helpers.js';
import { logStoreConformance } from './log-store.suite.js';
import { snapshotStoreConformance } from './snapshot-store.suite.js';
import { stableStoreConformance } from './stable-store.suite.js';

const open = async () => new MemoryStore();

logStoreConformance('MemoryStore', open);
stableStoreConformance('MemoryStore', open);
batchingStoreConformance('MemoryStore', open);
snapshotStoreConformance('MemoryStore', open);

describe('MemoryStore options', () => {
  it('keeps as many snapshots as retainSnapshots says', async () => {
    const store = new MemoryStore({ retainSnapshots: 3 });
    for (let i = 1; i <= 5; i++) {
      const sink = await store.create(meta(i));
      await sink.write(bytes(10, i));
      await sink.close();
    }
    expect((await store.list()).map((r) => r.meta.index)).toEqual([5, 4, 3]);
    await store.close(true);
  });

  it('refuses a retention below 1', async () => {
    for (const bad of [0, -1, 1.5]) {
      expect(() => new MemoryStore({ retainSnapshots: bad })).toThrowError(/retainSnapshots/);
    }
  });

  it('drops its data with close(true) and keeps rejecting with SHUTDOWN', async () => {
    const store = new MemoryStore();
    await store.close(true);
    await store.close();
    await expectCode(store.lastIndex(), 'SHUTDOWN');
  });
});
