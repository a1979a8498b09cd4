import { rm } from 'node:fs/promises';
import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { readUint64BE, uint64BE } from './bytes.js';
import { decodeFramed, decodeHardState, encodeEntry, encodeFramed, encodeHardState } from './codec.js';
import { HARD_STATE_KEY, logKey, userKey } from './keys.js';
import {
  attachSublevels,
  type ByteSublevel,
  createRootDb,
  type LevelOp,
  type RootDb,
  type StoreDb,
  SYNC,
  writeOps,
} from './level-db.js';
import { readBounds, readEntries, readEntry, verifyLog } from './level-log.js';
import { boundsAfterBatch, boundsAfterDelete, boundsAfterStore, type LogBounds } from './log-rules.js';
import { OpGate } from './op-gate.js';
import { resolveRetain, type StoreOptions } from './retention.js';
import { LevelSnapshots } from './snapshot-level.js';
import type { RaftStorage, SnapshotRecord, SnapshotSink, StableKey, StorageBatch } from './types.js';
import {
  assertBytes,
  assertIndex,
  assertUint64,
  checkBatch,
  checkEntries,
  checkEntry,
  invalidInput,
  shutdown,
  stableKeyBytes,
} from './validate.js';

/** Options of a {@link RaftStore}. */
export interface RaftStoreOptions extends StoreOptions {
  /**
   * Check the whole log (every entry's CRC, contiguous indexes), the hard state and the snapshot
   * records when opening. Default true; turn it off only to inspect a damaged store.
   */
  readonly verify?: boolean;
}

const INITIAL_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/**
 * Raft storage on LevelDB (classic-level): the log, the stable store, the hard state and the
 * snapshots of one node, in one database directory. Every write Raft relies on is synced before
 * its promise resolves; every record carries a CRC, and `open()` refuses (with `CORRUPTION`) a log
 * that is damaged or has holes. An empty `location` keeps everything in memory (memory-level).
 *
 * ```ts
 * const store = await RaftStore.open('./data/node-1');
 * ```
 */
export class RaftStore implements RaftStorage {
  /** The database directory, or '' for a memory-backed store. */
  readonly location: string;
  readonly #retain: number;
  readonly #verify: boolean;
  readonly #gate = new OpGate('RaftStore');
  /** Kept across close and reopen (memory mode keeps its data in it); dropped by `close(true)`. */
  #root: RootDb | undefined;
  #db: StoreDb | undefined;
  #snapshots: LevelSnapshots | undefined;
  #opening: Promise<void> | undefined;
  /**
   * The stored log range, kept in memory so that a write needs no reads first (this store is the
   * database's only writer). Undefined until read, and again after a failed write, when what the
   * database holds is unknown.
   */
  #bounds: LogBounds | undefined;

  /** Opens (creating it if missing) and verifies the store at `location`. */
  static async open(location: string, options?: RaftStoreOptions): Promise<RaftStore> {
    const store = new RaftStore(location, options);
    await store.open();
    return store;
  }

  /** Describes a store; nothing is opened until {@link open}. */
  constructor(location: string, options?: RaftStoreOptions) {
    if (typeof location !== 'string') throw invalidInput('location must be a string');
    this.location = location;
    this.#retain = resolveRetain(options);
    this.#verify = options?.verify ?? true;
  }

  /**
   * Without an argument: opens the store (after a `close()`, reopens it), verifying it unless
   * `verify` is false; on `CORRUPTION` the store stays closed. With a snapshot id: opens that
   * snapshot for reading (the {@link SnapshotStore} method).
   */
  open(): Promise<void>;
  open(id: string): Promise<{ record: SnapshotRecord; chunks: AsyncIterable<Uint8Array> }>;
  open(id?: string): Promise<unknown> {
    if (id === undefined) return this.#openStore();
    return this.#gate.run(async () => this.#requireSnapshots()).then((s) => s.open(id));
  }

  #openStore(): Promise<void> {
    if (this.#gate.isOpen) return Promise.resolve();
    this.#opening ??= this.#doOpen().finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #doOpen(): Promise<void> {
    this.#root ??= createRootDb(this.location);
    const root = this.#root;
    await root.open();
    const db = attachSublevels(root);
    try {
      this.#bounds = undefined;
      if (this.#verify) {
        this.#bounds = await verifyLog(db.log);
        await this.#hardState(db);
      }
      const snapshots = new LevelSnapshots(db, this.#gate, this.#retain);
      await snapshots.recover(this.#verify);
      this.#db = db;
      this.#snapshots = snapshots;
      this.#gate.admit();
    } catch (err) {
      await root.close().catch(() => undefined);
      throw err;
    }
  }

  #requireDb(): StoreDb {
    if (this.#db === undefined) throw shutdown('RaftStore');
    return this.#db;
  }

  #requireSnapshots(): LevelSnapshots {
    if (this.#snapshots === undefined) throw shutdown('RaftStore');
    return this.#snapshots;
  }

  firstIndex(): Promise<number> {
    return this.#gate.run(async () => (await this.#readBounds(this.#requireDb())).first);
  }

  lastIndex(): Promise<number> {
    return this.#gate.run(async () => (await this.#readBounds(this.#requireDb())).last);
  }

  async #readBounds(db: StoreDb): Promise<LogBounds> {
    this.#bounds ??= await readBounds(db.log);
    return this.#bounds;
  }

  /** Runs a write of the log as an exclusive operation, keeping {@link #bounds} true to the database. */
  #writeLog(write: (db: StoreDb, bounds: LogBounds) => Promise<LogBounds>): Promise<void> {
    return this.#gate.exclusive(async () => {
      const db = this.#requireDb();
      const bounds = await this.#readBounds(db);
      try {
        this.#bounds = await write(db, bounds);
      } catch (err) {
        this.#bounds = undefined;
        throw err;
      }
    });
  }

  async getLog(index: number): Promise<Entry | undefined> {
    assertIndex(index);
    return this.#gate.run(() => readEntry(this.#requireDb().log, index));
  }

  async getLogs(from: number, to: number): Promise<Entry[]> {
    assertIndex(from, 'from');
    assertIndex(to, 'to');
    return this.#gate.run(() => readEntries(this.#requireDb().log, from, to));
  }

  async storeLog(entry: Entry): Promise<void> {
    return this.#storeLogs([checkEntry(entry)]);
  }

  async storeLogs(entries: readonly Entry[]): Promise<void> {
    return this.#storeLogs(checkEntries(entries));
  }

  #storeLogs(entries: readonly Entry[]): Promise<void> {
    return this.#writeLog(async ({ root, log }, bounds) => {
      const after = boundsAfterStore(bounds, entries);
      await writeOps(
        root,
        entries.map((entry) => putEntry(log, entry)),
      );
      return after;
    });
  }

  async deleteRange(min: number, max: number): Promise<void> {
    assertIndex(min, 'min');
    assertIndex(max, 'max');
    return this.#writeLog(async ({ root, log }, bounds) => {
      const after = boundsAfterDelete(bounds, min, max);
      const doomed = storedIn(bounds, min, max).map((index) => delEntry(log, index));
      await writeOps(root, doomed);
      return after;
    });
  }

  async set(key: StableKey, value: Uint8Array): Promise<void> {
    const k = userKey(stableKeyBytes(key));
    assertBytes(value);
    // Framed (and so copied) now: the caller may reuse its buffer as soon as this returns.
    const framed = encodeFramed(k, value);
    return this.#gate.exclusive(() => this.#requireDb().stable.put(k, framed, SYNC));
  }

  async get(key: StableKey): Promise<Uint8Array | undefined> {
    const k = userKey(stableKeyBytes(key));
    return this.#gate.run(async () => {
      const stored = await this.#requireDb().stable.get(k);
      return stored === undefined ? undefined : decodeFramed(k, stored, 'stable value');
    });
  }

  async setUint64(key: StableKey, value: number): Promise<void> {
    stableKeyBytes(key);
    assertUint64(value);
    return this.set(key, uint64BE(value));
  }

  async getUint64(key: StableKey): Promise<number | undefined> {
    const value = await this.get(key);
    if (value === undefined) return undefined;
    const n = value.length === 8 ? readUint64BE(value) : undefined;
    if (n === undefined) throw invalidInput('the value stored under this key is not a uint64');
    return n;
  }

  /**
   * Writes a Ready's log changes and hard state in one synced LevelDB batch: after a crash either
   * all of it is there or none of it is.
   */
  async writeBatch(batch: StorageBatch): Promise<void> {
    const { resetLog, entries, hardState } = checkBatch(batch);
    return this.#writeLog(async ({ root, log, stable }, bounds) => {
      const after = boundsAfterBatch(bounds, entries, resetLog);
      const first = entries[0]?.index ?? Number.POSITIVE_INFINITY;
      const last = entries[entries.length - 1]?.index ?? 0;
      const ops: LevelOp[] = [];
      // Raft §5.3: every stored entry from the first new index on goes, including a conflicting
      // tail longer than the new entries. Indexes the new entries rewrite need no delete.
      const truncateFrom = resetLog ? 1 : first;
      for (const index of storedIn(bounds, truncateFrom, Number.MAX_SAFE_INTEGER)) {
        if (index < first || index > last) ops.push(delEntry(log, index));
      }
      for (const entry of entries) ops.push(putEntry(log, entry));
      if (hardState !== null) {
        ops.push({ type: 'put', sublevel: stable, key: HARD_STATE_KEY, value: encodeHardState(hardState) });
      }
      await writeOps(root, ops);
      return after;
    });
  }

  readHardState(): Promise<HardState> {
    return this.#gate.run(() => this.#hardState(this.#requireDb()));
  }

  async #hardState(db: StoreDb): Promise<HardState> {
    const stored = await db.stable.get(HARD_STATE_KEY);
    return stored === undefined ? { ...INITIAL_HARD_STATE } : decodeHardState(stored);
  }

  create(meta: SnapshotMeta): Promise<SnapshotSink> {
    return this.#gate.run(async () => this.#requireSnapshots()).then((s) => s.create(meta));
  }

  list(): Promise<SnapshotRecord[]> {
    return this.#gate.run(async () => this.#requireSnapshots()).then((s) => s.list());
  }

  /**
   * Closes the store after the operations in flight finish; later calls reject with `SHUTDOWN`.
   * With `removeStorage`, also deletes the database directory (or drops the memory-backed data).
   * A snapshot sink still open is abandoned, as in a crash: its chunks are removed on the next open.
   */
  async close(removeStorage = false): Promise<void> {
    await this.#opening?.catch(() => undefined);
    await this.#gate.shut();
    this.#snapshots?.retire();
    await this.#root?.close();
    this.#db = undefined;
    this.#snapshots = undefined;
    if (removeStorage) {
      // A fresh database object on the next open: for memory mode that is what drops the data.
      this.#root = undefined;
      if (this.location !== '') await rm(this.location, { recursive: true, force: true });
    }
  }
}

/** The stored indexes in [from, to]: the log is one contiguous range, so no read is needed. */
function storedIn(bounds: LogBounds, from: number, to: number): number[] {
  const out: number[] = [];
  if (bounds.last === 0) return out;
  for (let i = Math.max(from, bounds.first); i <= Math.min(to, bounds.last); i++) out.push(i);
  return out;
}

function putEntry(log: ByteSublevel, entry: Entry): LevelOp {
  return { type: 'put', sublevel: log, key: logKey(entry.index), value: encodeEntry(entry) };
}

function delEntry(log: ByteSublevel, index: number): LevelOp {
  return { type: 'del', sublevel: log, key: logKey(index) };
}
