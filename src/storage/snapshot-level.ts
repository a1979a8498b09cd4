import type { SnapshotMeta } from '../core/types.js';
import { prefixEnd } from './bytes.js';
import { decodeFramed, decodeStoredSnapshot, encodeFramed, encodeStoredSnapshot } from './codec.js';
import { crc32c } from './crc32c.js';
import {
  chunkKey,
  chunkPrefix,
  DATA_PREFIX,
  idOfMetaKey,
  META_PREFIX,
  metaKey,
  parseChunkKey,
} from './keys.js';
import { type StoreDb, SYNC } from './level-db.js';
import type { OpGate } from './op-gate.js';
import type { StoredSnapshot } from './schemas.js';
import { SinkState } from './sink-state.js';
import { formatSnapshotId, isSnapshotId, snapshotIdSeq } from './snapshot-id.js';
import type { SnapshotRecord, SnapshotSink, SnapshotStore } from './types.js';
import { assertBytes, checkSnapshotMeta, corruption, invalidInput, shutdown } from './validate.js';

/**
 * The snapshot store of a {@link RaftStore}, in the `snap` sublevel. A sink writes its chunks as
 * they arrive, unsynced, under its id; `close()` then writes the metadata record in a synced
 * batch. Only snapshots with a metadata record exist for `list` and `open`, so a crash before that
 * leaves the earlier snapshots as they were, and the next open deletes the stray chunks.
 */
export class LevelSnapshots implements SnapshotStore {
  readonly #db: StoreDb;
  readonly #gate: OpGate;
  readonly #retain: number;
  /** Counter for snapshot ids; starts above every id found in the database. */
  #seq = 0;
  /**
   * False once the store closed this session. The store may be reopened with a new instance of
   * this class; sinks and readers of the old session must not write or read across that.
   */
  #live = true;

  constructor(db: StoreDb, gate: OpGate, retain: number) {
    this.#db = db;
    this.#gate = gate;
    this.#retain = retain;
  }

  /**
   * Runs on open, before the store admits calls: deletes chunks that no metadata record claims
   * (left by a crash mid-snapshot or a failed cancel) and sets the id counter above every id in
   * use. With `verify`, it also checks every metadata record (chunks are checked when read).
   */
  async recover(verify: boolean): Promise<void> {
    const { snap } = this.#db;
    const complete = new Set<string>();
    for await (const [key, value] of snap.iterator({ gte: META_PREFIX, lt: prefixEnd(META_PREFIX) })) {
      const id = idOfMetaKey(key);
      if (verify) decodeStoredSnapshot(value, id);
      complete.add(id);
    }
    const strays = new Set<string>();
    for await (const key of snap.keys({ gte: DATA_PREFIX, lt: prefixEnd(DATA_PREFIX) })) {
      const chunk = parseChunkKey(key);
      if (chunk !== undefined && !complete.has(chunk.id)) strays.add(chunk.id);
    }
    for (const id of strays) await this.#deleteChunks(id);
    for (const id of [...complete, ...strays]) this.#seq = Math.max(this.#seq, snapshotIdSeq(id) ?? 0);
  }

  /** Ends this session: its sinks and readers reject with `SHUTDOWN` from now on, even after a reopen. */
  retire(): void {
    this.#live = false;
  }

  #assertLive(): void {
    this.#gate.assertOpen();
    if (!this.#live) throw shutdown('RaftStore');
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    return this.#gate.run(async () => {
      this.#assertLive();
      return op();
    });
  }

  create(meta: SnapshotMeta): Promise<SnapshotSink> {
    return this.#run(async () => this.#sink(checkSnapshotMeta(meta)));
  }

  list(): Promise<SnapshotRecord[]> {
    return this.#run(async () => (await this.#readAll()).map((s) => s.record));
  }

  open(id: string): Promise<{ record: SnapshotRecord; chunks: AsyncIterable<Uint8Array> }> {
    return this.#run(async () => {
      const stored = await this.#read(id);
      if (stored === undefined) throw invalidInput(`no snapshot with id ${String(id)}`);
      const record = toRecord(id, stored);
      return { record, chunks: { [Symbol.asyncIterator]: () => this.#chunks(id, stored) } };
    });
  }

  #sink(meta: SnapshotMeta): SnapshotSink {
    const id = formatSnapshotId(meta, ++this.#seq);
    const state = new SinkState(id);
    const { root, snap } = this.#db;
    const writes = new Set<Promise<void>>();
    let failure: unknown;
    let chunks = 0;
    let size = 0;
    let crc = 0;
    const settled = async (): Promise<void> => {
      while (writes.size > 0) await Promise.allSettled([...writes]);
    };
    return {
      id,
      write: (chunk) => {
        try {
          this.#assertLive();
          state.assertWritable();
          assertBytes(chunk, 'chunk');
        } catch (err) {
          return Promise.reject(err);
        }
        if (chunk.length === 0) return Promise.resolve();
        // Numbering, size and CRC follow call order, even for writes that overlap.
        const key = chunkKey(id, chunks++);
        size += chunk.length;
        crc = crc32c(chunk, crc);
        const value = encodeFramed(key, chunk);
        const write = this.#run(() => snap.put(key, value));
        writes.add(write);
        write.then(
          () => writes.delete(write),
          (err: unknown) => {
            writes.delete(write);
            failure ??= err;
          },
        );
        return write;
      },
      close: () => {
        try {
          this.#assertLive();
          // At once, not when the queue gets to it, so that no write slips in after close().
          state.beginClose();
        } catch (err) {
          return Promise.reject(err);
        }
        return this.#gate.exclusive(async () => {
          const stored: StoredSnapshot = { meta, size, chunks, crc };
          try {
            await settled();
            if (failure !== undefined) throw failure;
            // Synced, and after every chunk: LevelDB appends writes to one log in order, so syncing
            // this record also makes the unsynced chunks written before it durable.
            const record = {
              type: 'put' as const,
              sublevel: snap,
              key: metaKey(id),
              value: encodeStoredSnapshot(stored),
            };
            await root.batch([record], SYNC);
          } catch (err) {
            // Nothing became visible; `cancel` may discard the chunks.
            state.endClose(false);
            throw err;
          }
          state.endClose(true);
          await this.#applyRetention();
          return toRecord(id, stored);
        });
      },
      cancel: () =>
        this.#run(async () => {
          if (!state.cancel()) return;
          await settled();
          await this.#deleteChunks(id);
        }),
    };
  }

  async #read(id: string): Promise<StoredSnapshot | undefined> {
    if (typeof id !== 'string' || !isSnapshotId(id)) return undefined;
    const value = await this.#db.snap.get(metaKey(id));
    return value === undefined ? undefined : decodeStoredSnapshot(value, id);
  }

  /** Every complete snapshot, newest first (descending id order: see `snapshot-id.ts`). */
  async #readAll(): Promise<Array<{ id: string; record: SnapshotRecord }>> {
    const out: Array<{ id: string; record: SnapshotRecord }> = [];
    const range = { gte: META_PREFIX, lt: prefixEnd(META_PREFIX), reverse: true };
    for await (const [key, value] of this.#db.snap.iterator(range)) {
      const id = idOfMetaKey(key);
      out.push({ id, record: toRecord(id, decodeStoredSnapshot(value, id)) });
    }
    return out;
  }

  /** Deletes the snapshots beyond the newest `retain`: metadata first (synced), then their chunks. */
  async #applyRetention(): Promise<void> {
    const old = (await this.#readAll()).slice(this.#retain);
    if (old.length === 0) return;
    const { root, snap } = this.#db;
    await root.batch(
      old.map(({ id }) => ({ type: 'del' as const, sublevel: snap, key: metaKey(id) })),
      SYNC,
    );
    // A crash here leaves chunks without metadata, which the next open removes.
    for (const { id } of old) await this.#deleteChunks(id);
  }

  async #deleteChunks(id: string): Promise<void> {
    const prefix = chunkPrefix(id);
    await this.#db.snap.clear({ gte: prefix, lt: prefixEnd(prefix) });
  }

  /** Streams and checks a snapshot's chunks: each chunk's CRC, their numbering, count, size and overall CRC. */
  async *#chunks(id: string, stored: StoredSnapshot): AsyncGenerator<Uint8Array> {
    this.#assertLive();
    const prefix = chunkPrefix(id);
    // LevelDB iterators read from an implicit snapshot taken when they are created, so once this
    // starts, retention deleting the snapshot does not affect it.
    const iterator = this.#db.snap.iterator({ gte: prefix, lt: prefixEnd(prefix) });
    let seq = 0;
    let size = 0;
    let crc = 0;
    try {
      for (;;) {
        const next = await this.#run(() => iterator.next());
        if (next === undefined) break;
        const [key, value] = next;
        if (parseChunkKey(key)?.seq !== seq) await this.#damaged(id, `chunk ${seq} is missing`);
        const data = decodeFramed(key, value, `chunk ${seq} of snapshot ${id}`);
        seq++;
        size += data.length;
        crc = crc32c(data, crc);
        yield data;
      }
      if (seq !== stored.chunks || size !== stored.size || crc !== stored.crc) {
        await this.#damaged(id, `data does not match its metadata (${seq} of ${stored.chunks} chunks)`);
      }
    } finally {
      await iterator.close().catch(() => undefined);
    }
  }

  /**
   * Throws for a snapshot whose chunks do not add up: `CORRUPTION`, unless retention deleted the
   * snapshot before the reader started, which is no damage at all.
   */
  async #damaged(id: string, problem: string): Promise<never> {
    if ((await this.#run(() => this.#read(id))) === undefined) {
      throw invalidInput(`snapshot ${id} was deleted before it was read`);
    }
    throw corruption(`snapshot ${id}: ${problem}`);
  }
}

function toRecord(id: string, stored: StoredSnapshot): SnapshotRecord {
  return { id, meta: stored.meta, size: stored.size };
}
