import type { Entry, HardState, SnapshotMeta } from '../core/types.js';
import { copyBytes, readUint64BE, uint64BE } from './bytes.js';
import {
  boundsAfterBatch,
  boundsAfterDelete,
  boundsAfterStore,
  EMPTY_BOUNDS,
  type LogBounds,
} from './log-rules.js';
import { MemorySnapshots } from './memory-snapshots.js';
import { resolveRetain, type StoreOptions } from './retention.js';
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

/** Options of a {@link MemoryStore}. */
export type MemoryStoreOptions = StoreOptions;

const INITIAL_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

function copyEntry(entry: Entry): Entry {
  return { index: entry.index, term: entry.term, type: entry.type, data: copyBytes(entry.data) };
}

/** Stable keys as map keys: hex of the key bytes, so a string and its UTF-8 bytes are the same key. */
function mapKey(key: StableKey): string {
  return Buffer.from(stableKeyBytes(key)).toString('hex');
}

/**
 * Raft storage that lives in process memory: for tests, simulations and demos. It follows the same
 * contract and input checks as {@link RaftStore} (minus durability), copies every byte array on
 * the way in and out so that callers can never change stored data, and rejects every call with
 * `SHUTDOWN` once closed.
 */
export class MemoryStore implements RaftStorage {
  /** Entries by index; `#bounds` tracks the contiguous range they cover. */
  readonly #log = new Map<number, Entry>();
  #bounds: LogBounds = EMPTY_BOUNDS;
  readonly #stable = new Map<string, Uint8Array>();
  #hardState: HardState = INITIAL_HARD_STATE;
  readonly #snapshots: MemorySnapshots;
  #closed = false;

  /** Creates an empty store; `retainSnapshots` (default 2) is how many complete snapshots it keeps. */
  constructor(options?: MemoryStoreOptions) {
    this.#snapshots = new MemorySnapshots(resolveRetain(options), () => this.#assertOpen());
  }

  #assertOpen(): void {
    if (this.#closed) throw shutdown('MemoryStore');
  }

  async firstIndex(): Promise<number> {
    this.#assertOpen();
    return this.#bounds.first;
  }

  async lastIndex(): Promise<number> {
    this.#assertOpen();
    return this.#bounds.last;
  }

  async getLog(index: number): Promise<Entry | undefined> {
    this.#assertOpen();
    assertIndex(index);
    const entry = this.#log.get(index);
    return entry === undefined ? undefined : copyEntry(entry);
  }

  async getLogs(from: number, to: number): Promise<Entry[]> {
    this.#assertOpen();
    assertIndex(from, 'from');
    assertIndex(to, 'to');
    const out: Entry[] = [];
    const end = Math.min(to, this.#bounds.last);
    for (let i = Math.max(from, this.#bounds.first); i <= end; i++) {
      const entry = this.#log.get(i);
      if (entry !== undefined) out.push(copyEntry(entry));
    }
    return out;
  }

  async storeLog(entry: Entry): Promise<void> {
    this.#assertOpen();
    this.#store([checkEntry(entry)]);
  }

  async storeLogs(entries: readonly Entry[]): Promise<void> {
    this.#assertOpen();
    this.#store(checkEntries(entries));
  }

  #store(entries: readonly Entry[]): void {
    this.#bounds = boundsAfterStore(this.#bounds, entries);
    for (const entry of entries) this.#log.set(entry.index, entry);
  }

  async deleteRange(min: number, max: number): Promise<void> {
    this.#assertOpen();
    assertIndex(min, 'min');
    assertIndex(max, 'max');
    const before = this.#bounds;
    this.#bounds = boundsAfterDelete(before, min, max);
    const end = Math.min(max, before.last);
    for (let i = Math.max(min, before.first); i <= end; i++) this.#log.delete(i);
  }

  async set(key: StableKey, value: Uint8Array): Promise<void> {
    this.#assertOpen();
    const k = mapKey(key);
    assertBytes(value);
    this.#stable.set(k, copyBytes(value));
  }

  async get(key: StableKey): Promise<Uint8Array | undefined> {
    this.#assertOpen();
    const value = this.#stable.get(mapKey(key));
    return value === undefined ? undefined : copyBytes(value);
  }

  async setUint64(key: StableKey, value: number): Promise<void> {
    this.#assertOpen();
    const k = mapKey(key);
    assertUint64(value);
    this.#stable.set(k, uint64BE(value));
  }

  async getUint64(key: StableKey): Promise<number | undefined> {
    this.#assertOpen();
    const value = this.#stable.get(mapKey(key));
    if (value === undefined) return undefined;
    const n = value.length === 8 ? readUint64BE(value) : undefined;
    if (n === undefined) throw invalidInput('the value stored under this key is not a uint64');
    return n;
  }

  async writeBatch(batch: StorageBatch): Promise<void> {
    this.#assertOpen();
    const { resetLog, entries, hardState } = checkBatch(batch);
    const before = this.#bounds;
    this.#bounds = boundsAfterBatch(before, entries, resetLog);
    const from = resetLog ? 0 : (entries[0]?.index ?? Number.POSITIVE_INFINITY);
    // Every stored entry at or above the first new one is replaced (Raft §5.3: a conflicting
    // suffix goes entirely, even the part the new entries do not reach).
    for (let i = Math.max(from, before.first); i <= before.last; i++) this.#log.delete(i);
    for (const entry of entries) this.#log.set(entry.index, entry);
    if (hardState !== null) this.#hardState = hardState;
  }

  async readHardState(): Promise<HardState> {
    this.#assertOpen();
    return { ...this.#hardState };
  }

  create(meta: SnapshotMeta): Promise<SnapshotSink> {
    return this.#snapshots.create(meta);
  }

  list(): Promise<SnapshotRecord[]> {
    return this.#snapshots.list();
  }

  open(id: string): Promise<{ record: SnapshotRecord; chunks: AsyncIterable<Uint8Array> }> {
    return this.#snapshots.open(id);
  }

  /** Closes the store; every later call rejects with `SHUTDOWN`. `removeStorage` also drops the data. */
  async close(removeStorage = false): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (removeStorage) {
      this.#log.clear();
      this.#bounds = EMPTY_BOUNDS;
      this.#stable.clear();
      this.#hardState = INITIAL_HARD_STATE;
      this.#snapshots.clear();
    }
  }
}
