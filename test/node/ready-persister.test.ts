import { describe, expect, it } from 'vitest';
import type { Ready } from '../../src/core/ready.js';
import type { Entry, HardState } from '../../src/core/types.js';
import { ReadyPersister } from '../../src/node/ready-persister.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { StorageBatch } from '../../src/storage/types.js';

const hs = (term: number, vote: string | null, commit: number): HardState => ({ term, vote, commit });
const entry = (index: number, term = 1): Entry => ({
  index,
  term,
  type: 'command',
  data: new Uint8Array([index]),
});

function ready(fields: Partial<Pick<Ready, 'hardState' | 'entries'>>): Ready {
  return {
    softState: null,
    hardState: fields.hardState ?? null,
    snapshot: null,
    entries: fields.entries ?? [],
    committedEntries: [],
    earlyMessages: [],
    messages: [],
    readStates: [],
  };
}

/** A MemoryStore that records every batch written to it, and whether it was synced. */
async function recordingStore(): Promise<{ store: MemoryStore; batches: StorageBatch[]; synced: boolean[] }> {
  const store = new MemoryStore();
  const batches: StorageBatch[] = [];
  const synced: boolean[] = [];
  const writeBatch = store.writeBatch.bind(store);
  store.writeBatch = (batch, options) => {
    batches.push(batch);
    synced.push(options?.sync ?? true);
    return writeBatch(batch, options);
  };
  return { store, batches, synced };
}

describe('ReadyPersister', () => {
  it('holds back a hard state that moves only the commit index, and writes it with the next write', async () => {
    const { store, batches } = await recordingStore();
    const persister = new ReadyPersister(store, hs(1, 'a', 0));
    await persister.persist(ready({ entries: [entry(1), entry(2)], hardState: hs(1, 'a', 0) }));
    await persister.persist(ready({ hardState: hs(1, 'a', 1) }));
    await persister.persist(ready({ hardState: hs(1, 'a', 2) }));
    expect(batches).toHaveLength(1);
    expect(await store.readHardState()).toEqual(hs(1, 'a', 0));
    // The next entries carry the newest held hard state, although their Ready has none.
    await persister.persist(ready({ entries: [entry(3)] }));
    expect(batches).toHaveLength(2);
    expect(await store.readHardState()).toEqual(hs(1, 'a', 2));
    expect(persister.batches).toBe(2);
    expect(persister.entries).toBe(3);
  });

  it('writes a new term or vote at once, with the newest commit', async () => {
    const { store, batches } = await recordingStore();
    const persister = new ReadyPersister(store, hs(1, null, 0));
    await persister.persist(ready({ hardState: hs(1, 'b', 0) }));
    expect(await store.readHardState()).toEqual(hs(1, 'b', 0));
    await persister.persist(ready({ hardState: hs(1, 'b', 4) }));
    await persister.persist(ready({ hardState: hs(2, null, 4) }));
    expect(batches.map((b) => b.hardState)).toEqual([hs(1, 'b', 0), hs(2, null, 4)]);
    expect(await store.readHardState()).toEqual(hs(2, null, 4));
  });

  it('merges the Readies that arrive while a write runs into the next write', async () => {
    const { store, batches } = await recordingStore();
    const persister = new ReadyPersister(store, hs(1, 'a', 0));
    const first = persister.persist(ready({ entries: [entry(1), entry(2)] }));
    // Written while the first write runs: 3 and 4, then a rewrite of 4 and 5 in term 2, a commit.
    const later = [
      persister.persist(ready({ entries: [entry(3), entry(4)] })),
      persister.persist(ready({ entries: [entry(4, 2), entry(5, 2)], hardState: hs(2, null, 1) })),
      persister.persist(ready({ hardState: hs(2, null, 3) })),
      persister.persist(ready({ entries: [entry(6, 2)] })),
    ];
    await Promise.all([first, ...later]);
    expect(batches.map((b) => b.entries.map((e) => `${e.index}:${e.term}`))).toEqual([
      ['1:1', '2:1'],
      ['3:1', '4:2', '5:2', '6:2'],
    ]);
    expect(batches[1]?.hardState).toEqual(hs(2, null, 3));
    expect((await store.getLogs(1, 10)).map((e) => `${e.index}:${e.term}`)).toEqual([
      '1:1',
      '2:1',
      '3:1',
      '4:2',
      '5:2',
      '6:2',
    ]);
  });

  it('resolves each Ready only once everything before it is durable, and fails all after a failed write', async () => {
    const { store } = await recordingStore();
    const persister = new ReadyPersister(store, hs(1, 'a', 0));
    const order: string[] = [];
    let failNext = false;
    const writeBatch = store.writeBatch.bind(store);
    store.writeBatch = async (batch) => {
      await new Promise((r) => setTimeout(r, 5));
      if (failNext) throw new Error('disk full');
      return writeBatch(batch);
    };
    const a = persister.persist(ready({ entries: [entry(1)] })).then(() => order.push('a'));
    const b = persister.persist(ready({})).then(() => order.push('b'));
    await Promise.all([a, b]);
    expect(order).toEqual(['a', 'b']);
    failNext = true;
    const c = persister.persist(ready({ entries: [entry(2)] }));
    const d = persister.persist(ready({ entries: [entry(3)] }));
    await expect(c).rejects.toThrow('disk full');
    await expect(d).rejects.toThrow('disk full');
    await expect(persister.persist(ready({ entries: [entry(4)] }))).rejects.toThrow('disk full');
    await expect(persister.drained()).rejects.toThrow('disk full');
  });

  it('writes nothing for a Ready with nothing to persist', async () => {
    const { store, batches } = await recordingStore();
    const persister = new ReadyPersister(store, hs(1, null, 0));
    await persister.persist(ready({}));
    expect(batches).toEqual([]);
  });

  describe('unsynced Readies (a non-voter that sends nothing)', () => {
    it('writes them unsynced, and syncs them with a write of their own before a durable Ready that writes nothing', async () => {
      const { store, batches, synced } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      await persister.persist(ready({ entries: [entry(1), entry(2)], hardState: hs(2, null, 1) }), {
        sync: false,
      });
      await persister.persist(ready({ entries: [entry(3)] }), { sync: false });
      expect(synced).toEqual([false, false]);
      // An answer to the leader goes out after this Ready: what it acknowledges must be durable.
      await persister.persist(ready({}));
      expect(synced).toEqual([false, false, true]);
      expect(batches[2]).toEqual({ resetLog: false, entries: [], hardState: hs(2, null, 1) });
      // Nothing is left unsynced now: the next durable Ready with nothing to write writes nothing.
      await persister.persist(ready({}));
      expect(batches).toHaveLength(3);
      expect(persister.batches).toBe(3);
      expect(persister.unsyncedBatches).toBe(2);
    });

    it('syncs them with the next durable Ready that writes, without an extra write', async () => {
      const { batches, synced, store } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      await persister.persist(ready({ entries: [entry(1)] }), { sync: false });
      await persister.persist(ready({ entries: [entry(2)] }));
      expect(synced).toEqual([false, true]);
      expect(batches.map((b) => b.entries.length)).toEqual([1, 1]);
      expect(persister.unsyncedBatches).toBe(1);
    });

    it('syncs a merged write when any Ready in it must be durable', async () => {
      const { store, batches, synced } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      const first = persister.persist(ready({ entries: [entry(1)] }));
      const merged = [
        persister.persist(ready({ entries: [entry(2)] }), { sync: false }),
        persister.persist(ready({}), { sync: true }),
      ];
      await Promise.all([first, ...merged]);
      expect(batches.map((b) => b.entries.map((e) => e.index))).toEqual([[1], [2]]);
      expect(synced).toEqual([true, true]);
    });

    it('drained() syncs what was left unsynced', async () => {
      const { store, synced } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      await persister.persist(ready({ entries: [entry(1)] }), { sync: false });
      await persister.drained();
      expect(synced).toEqual([false, true]);
    });
  });
});
