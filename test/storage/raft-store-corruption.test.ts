import { afterAll, describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/errors.js';
import { RaftStore } from '../../src/storage/index.js';
import { bytes, entries, expectCode, meta, readAll } from '../conformance/helpers.js';
import { flipByte, openRaw, rawLogKey, removeTempDirs, tempDir } from './helpers.js';

afterAll(removeTempDirs);

/** A store directory holding entries [1, count], closed. */
async function storeWithLog(count: number): Promise<string> {
  const dir = await tempDir();
  const store = await RaftStore.open(dir);
  await store.writeBatch({
    resetLog: false,
    entries: entries(1, count),
    hardState: { term: 1, vote: 'a', commit: 2 },
  });
  await store.set('k', new Uint8Array([1, 2, 3, 4]));
  await store.close();
  return dir;
}

/** Replaces the raw value at `key` in one sublevel of a closed store. */
async function damage(
  dir: string,
  sublevel: 'log' | 'stable' | 'snap',
  key: Uint8Array,
  change: (value: Uint8Array) => Uint8Array | undefined,
): Promise<void> {
  const raw = await openRaw(dir);
  const value = await raw[sublevel].get(key);
  if (value === undefined) throw new Error('nothing stored under that key');
  const changed = change(value);
  if (changed === undefined) await raw[sublevel].del(key);
  else await raw[sublevel].put(key, changed);
  await raw.db.close();
}

/** Asserts that opening (and verifying) the store rejects with CORRUPTION and leaves it closed. */
async function expectOpenCorruption(dir: string, mention?: RegExp): Promise<void> {
  const store = new RaftStore(dir);
  const err = await store.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRaftError(err, 'CORRUPTION'), `expected CORRUPTION, got ${String(err)}`).toBe(true);
  if (mention !== undefined) expect((err as Error).message).toMatch(mention);
  await expectCode(store.lastIndex(), 'SHUTDOWN');
  // The failed open released the database: it can be opened again.
  const raw = await openRaw(dir);
  await raw.db.close();
}

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('RaftStore corruption detection', () => {
  it('refuses to open when any byte of a stored entry is flipped, naming the entry', async () => {
    const dir = await storeWithLog(3);
    const raw = await openRaw(dir);
    const original = (await raw.log.get(rawLogKey(2))) ?? new Uint8Array(0);
    await raw.db.close();
    expect(original.length).toBeGreaterThan(10);
    for (let position = 0; position < original.length; position++) {
      await damage(dir, 'log', rawLogKey(2), () => flipByte(original, position));
      await expectOpenCorruption(dir, /\b2\b/);
    }
    await damage(dir, 'log', rawLogKey(2), () => original);
    const store = await RaftStore.open(dir);
    expect(await store.getLogs(1, 3)).toEqual(entries(1, 3));
    await store.close();
  });

  it('refuses to open on truncated, garbage or misplaced entries, or a hole in the log', async () => {
    const damages: Array<(value: Uint8Array) => Uint8Array | undefined> = [
      (v) => v.subarray(0, v.length - 3),
      () => new Uint8Array(0),
      () => utf8('not msgpack at all'),
      () => new Uint8Array([0xc1]),
      () => new Uint8Array([0x93, 1, 2, 3]),
      () => new Uint8Array([0xdf, 0xff, 0xff, 0xff, 0xff]),
      (v) => new Uint8Array([...v, 0]),
      () => undefined,
    ];
    for (const change of damages) {
      const dir = await storeWithLog(5);
      await damage(dir, 'log', rawLogKey(3), change);
      await expectOpenCorruption(dir);
    }
    // An intact entry copied under another index.
    const dir = await storeWithLog(5);
    const raw = await openRaw(dir);
    const fourth = await raw.log.get(rawLogKey(4));
    await raw.db.close();
    await damage(dir, 'log', rawLogKey(3), () => fourth);
    await expectOpenCorruption(dir, /entry 3 holds entry 4/);
  });

  it('reports CORRUPTION on reads of a damaged entry when opened without verification', async () => {
    const dir = await storeWithLog(10);
    await damage(dir, 'log', rawLogKey(7), (v) => flipByte(v, v.length - 6));
    const store = await RaftStore.open(dir, { verify: false });
    await expectCode(store.getLog(7), 'CORRUPTION');
    await expectCode(store.getLogs(1, 10), 'CORRUPTION');
    expect(await store.getLogs(1, 6)).toEqual(entries(1, 6));
    expect(await store.getLog(8)).toEqual(entries(8, 8)[0]);
    await store.close();
  });

  it('detects a damaged hard state and a damaged stable value', async () => {
    const dir = await storeWithLog(3);
    const stableKey = new Uint8Array([...utf8('u/'), ...utf8('k')]);
    await damage(dir, 'stable', stableKey, (v) => flipByte(v, v.length - 1));
    const store = await RaftStore.open(dir);
    await expectCode(store.get('k'), 'CORRUPTION');
    await store.close();

    await damage(dir, 'stable', utf8('r/hardState'), (v) => flipByte(v, v.length - 2));
    await expectOpenCorruption(dir, /hard state/);
    const unverified = await RaftStore.open(dir, { verify: false });
    await expectCode(unverified.readHardState(), 'CORRUPTION');
    await unverified.close();
  });

  describe('snapshots', () => {
    async function storeWithSnapshot(): Promise<{ dir: string; id: string }> {
      const dir = await tempDir();
      const store = await RaftStore.open(dir);
      const sink = await store.create(meta(10));
      for (let i = 0; i < 3; i++) await sink.write(bytes(1000, i + 1));
      const { id } = await sink.close();
      await store.close();
      return { dir, id };
    }

    const chunkKey = (id: string, seq: number): Uint8Array => {
      const key = new Uint8Array([...utf8(`data/${id}/`), 0, 0, 0, 0, 0, 0, 0, 0]);
      key[key.length - 1] = seq;
      return key;
    };

    /** Opens the snapshot and reads it to the end; returns how many chunks arrived and the error. */
    async function readSnapshot(dir: string, id: string): Promise<{ chunks: number; error: unknown }> {
      const store = await RaftStore.open(dir);
      const { chunks } = await store.open(id);
      let count = 0;
      let error: unknown;
      try {
        for await (const _ of chunks) count++;
      } catch (err) {
        error = err;
      }
      await store.close();
      return { chunks: count, error };
    }

    it('rejects the iteration with CORRUPTION at a chunk with a flipped byte', async () => {
      const { dir, id } = await storeWithSnapshot();
      await damage(dir, 'snap', chunkKey(id, 1), (v) => flipByte(v, 500));
      const { chunks, error } = await readSnapshot(dir, id);
      expect(chunks).toBe(1);
      expect(isRaftError(error, 'CORRUPTION')).toBe(true);
      expect((error as Error).message).toMatch(/chunk 1/);
    });

    it('rejects the iteration with CORRUPTION when a chunk is missing or truncated', async () => {
      for (const change of [() => undefined, (v: Uint8Array) => v.subarray(0, 2)]) {
        for (const seq of [0, 1, 2]) {
          const { dir, id } = await storeWithSnapshot();
          await damage(dir, 'snap', chunkKey(id, seq), change);
          const { error } = await readSnapshot(dir, id);
          expect(isRaftError(error, 'CORRUPTION'), `chunk ${seq}: ${String(error)}`).toBe(true);
        }
      }
    });

    it('refuses to open on a damaged metadata record; unverified, list() reports it', async () => {
      const { dir, id } = await storeWithSnapshot();
      await damage(dir, 'snap', utf8(`meta/${id}`), (v) => flipByte(v, v.length - 3));
      await expectOpenCorruption(dir, /snapshot/);
      const store = await RaftStore.open(dir, { verify: false });
      await expectCode(store.list(), 'CORRUPTION');
      await expectCode(store.open(id), 'CORRUPTION');
      await store.close();
    });

    it('reads an undamaged snapshot in full', async () => {
      const { dir, id } = await storeWithSnapshot();
      const store = await RaftStore.open(dir);
      const data = await readAll((await store.open(id)).chunks);
      expect(data.length).toBe(3000);
      await store.close();
    });
  });
});
