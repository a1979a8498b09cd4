import type { Entry, HardState, SnapshotMeta } from '../core/types.js';

/** A key of a {@link StableStore}: bytes, or a string taken as its UTF-8 bytes. */
export type StableKey = Uint8Array | string;

/**
 * The Raft log on stable storage (hashicorp/raft's LogStore). Indexes are positive integers;
 * the stored entries always form one contiguous range [firstIndex, lastIndex].
 *
 * Durability: a returned promise means the write is on stable storage (synced).
 * Errors: a stored entry that fails its checksum rejects with a `RaftError` of code `CORRUPTION`.
 */
export interface LogStore {
  /** The lowest stored index, or 0 when the log is empty. */
  firstIndex(): Promise<number>;
  /** The highest stored index, or 0 when the log is empty. */
  lastIndex(): Promise<number>;
  /** The entry at `index`, or undefined when none is stored there. */
  getLog(index: number): Promise<Entry | undefined>;
  /** The stored entries in [from, to], in order (missing ones are skipped). */
  getLogs(from: number, to: number): Promise<Entry[]>;
  /** Stores one entry, replacing any entry at its index. */
  storeLog(entry: Entry): Promise<void>;
  /** Stores entries in one atomic write, replacing any at their indexes. */
  storeLogs(entries: readonly Entry[]): Promise<void>;
  /** Deletes the entries in [min, max], inclusive on both ends. */
  deleteRange(min: number, max: number): Promise<void>;
}

/**
 * Small durable values: the current term, the vote, and anything the application keeps beside
 * them (hashicorp/raft's StableStore). A missing key is `undefined`, never an empty value.
 */
export interface StableStore {
  set(key: StableKey, value: Uint8Array): Promise<void>;
  get(key: StableKey): Promise<Uint8Array | undefined>;
  /** Stores a non-negative safe integer (Raft terms and indexes stay far below 2^53). */
  setUint64(key: StableKey, value: number): Promise<void>;
  getUint64(key: StableKey): Promise<number | undefined>;
}

/** One durable write of a Ready: what the log and the hard state become, all or nothing. */
export interface StorageBatch {
  /** When set, a snapshot was installed: drop every stored entry before writing `entries`. */
  readonly resetLog: boolean;
  /** Entries to store; every stored entry at or above `entries[0].index` is replaced. */
  readonly entries: readonly Entry[];
  /** The new hard state, when it changed. */
  readonly hardState: HardState | null;
}

/**
 * A store that keeps both the log and the hard state, and can write a Ready's state in one synced,
 * atomic batch (group commit). The node uses it when present; otherwise it writes the hard state
 * first and the entries second, which is safe but slower.
 */
export interface BatchingStore {
  writeBatch(batch: StorageBatch): Promise<void>;
  /** The persisted hard state, or the initial one (term 0, no vote, commit 0). */
  readHardState(): Promise<HardState>;
}

/** A snapshot as its store lists it. */
export interface SnapshotRecord {
  /** Unique within its store. */
  readonly id: string;
  readonly meta: SnapshotMeta;
  /** Size of the data in bytes. */
  readonly size: number;
}

/**
 * Receives one snapshot's data. Nothing becomes visible until {@link close} resolves; a sink that is
 * cancelled, or abandoned by a crash, leaves the previous snapshots untouched.
 */
export interface SnapshotSink {
  readonly id: string;
  /** Appends a chunk of data. */
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the snapshot durable and visible, then deletes snapshots beyond the retention count. */
  close(): Promise<SnapshotRecord>;
  /** Discards what was written. */
  cancel(): Promise<void>;
}

/** Where snapshots live (hashicorp/raft's SnapshotStore). It keeps the newest few (default 2). */
export interface SnapshotStore {
  /** Starts a new snapshot described by `meta`. */
  create(meta: SnapshotMeta): Promise<SnapshotSink>;
  /** Complete snapshots, newest first (by index, then term). */
  list(): Promise<SnapshotRecord[]>;
  /** Streams a snapshot's data in chunks; rejects with `CORRUPTION` if a chunk fails its checksum. */
  open(id: string): Promise<{ record: SnapshotRecord; chunks: AsyncIterable<Uint8Array> }>;
}

/** Everything the node persists: what MemoryStore and RaftStore both implement. */
export interface RaftStorage extends LogStore, StableStore, BatchingStore, SnapshotStore {
  /** Releases the store; with `removeStorage`, deletes its data too. */
  close(removeStorage?: boolean): Promise<void>;
}
