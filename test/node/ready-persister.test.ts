import { describe, expect, it } from 'vitest';
import type { Ready } from '../../src/core/ready.js';
import type { Entry, HardState } from '../../src/core/types.js';
import { MAX_DEFERRED_ENTRIES, ReadyPersister } from '../../src/node/ready-persister.js';
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

/** A MemoryStore that records every batch written to it. */
async function recordingStore(): Promise<{ store: MemoryStore; batches: StorageBatch[] }> {
  const store = new MemoryStore();
  const batches: StorageBatch[] = [];
  const writeBatch = store.writeBatch.bind(store);
  store.writeBatch = (batch) => {
    batches.push(batch);
    return writeBatch(batch);
  };
  return { store, batches };
}

const terms = (list: readonly Entry[]) => list.map((e) => `${e.index}:${e.term}`);

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

  describe('deferred Readies (a non-voter that sends nothing)', () => {
    it('resolves them at once and writes them with the next Ready that must be durable', async () => {
      const { store, batches } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      await persister.persist(ready({ entries: [entry(1), entry(2)], hardState: hs(2, null, 1) }), {
        defer: true,
      });
      await persister.persist(ready({ entries: [entry(3)] }), { defer: true });
      expect(batches).toEqual([]);
      expect(await store.lastIndex()).toBe(0);
      // An answer to the leader goes out after this Ready: what it acknowledges must be durable.
      await persister.persist(ready({}));
      expect(batches.map((b) => terms(b.entries))).toEqual([['1:1', '2:1', '3:1']]);
      expect(batches[0]?.hardState).toEqual(hs(2, null, 1));
      expect(persister.deferredReadies).toBe(2);
      expect(persister.batches).toBe(1);
    });

    it('keeps the order of deferred and durable Readies that arrive while a write runs', async () => {
      const { store, batches } = await recordingStore();
      const persister = new ReadyPersister(store, hs(1, null, 0));
      const first = persister.persist(ready({ entries: [entry(1)] }));
      const durable = persister.persist(ready({ entries: [entry(2), entry(3)] }));
      // A newer leader's entry 3 replaces the one above: merged in arrival order, it must win.
      await persister.persist(ready({ entries: [entry(3, 2)], hardState: hs(2, null, 0) }), { defer: true });
      await Promise.all([first, durable, persister.persist(ready({}))]);
      expect(batches.map((b) => terms(b.entries))).toEqual([['1:1'], ['2:1', '3:2']]);
      expect(terms(await store.getLogs(1, 10))).toEqual(['1:1', '2:1', '3:2']);
      expect(await store.readHardState()).toEqual(hs(2, null, 0));
    });

    it('drained() writes what was deferred', async () => {
      const { store, batches } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      await persister.persist(ready({ entries: [entry(1)] }), { defer: true });
      await persister.drained();
      expect(batches.map((b) => terms(b.entries))).toEqual([['1:1']]);
    });

    it('writes them once MAX_DEFERRED_ENTRIES wait, though no durable Ready came', async () => {
      const { batches, store } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      const half = MAX_DEFERRED_ENTRIES / 2;
      const run = (from: number) => Array.from({ length: half }, (_, i) => entry(from + i));
      await persister.persist(ready({ entries: run(1) }), { defer: true });
      expect(batches).toEqual([]);
      await persister.persist(ready({ entries: run(half + 1) }), { defer: true });
      expect(batches.map((b) => b.entries.length)).toEqual([MAX_DEFERRED_ENTRIES]);
    });

    it('fails a deferred Ready after a failed write, like every later one', async () => {
      const { store } = await recordingStore();
      const persister = new ReadyPersister(store, hs(2, null, 0));
      store.writeBatch = async () => {
        throw new Error('disk full');
      };
      await persister.persist(ready({ entries: [entry(1)] }), { defer: true });
      await expect(persister.persist(ready({}))).rejects.toThrow('disk full');
      await expect(persister.persist(ready({ entries: [entry(2)] }), { defer: true })).rejects.toThrow(
        'disk full',
      );
    });
  });
});
