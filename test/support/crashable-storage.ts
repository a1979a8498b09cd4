import type { HardState } from '../../src/core/types.js';
import type { Entry, SnapshotMeta } from '../../src/index.js';
import type {
  RaftStorage,
  SnapshotRecord,
  SnapshotSink,
  StableKey,
  StorageBatch,
} from '../../src/storage/types.js';

/** What a crashed store answers to the process that is gone: it never sees another result. */
export class CrashedError extends Error {
  constructor() {
    super('the storage crashed');
  }
}

/**
 * A store that can crash: after {@link crash}, no write reaches the store underneath, and no
 * result, not even of a write issued before the crash, is reported to the node any more. What is
 * on "disk" is then exactly what the store underneath holds: every write issued before the crash
 * point (each one atomic and synced, as RaftStore and MemoryStore write them), and nothing after.
 * A restart opens a new CrashableStorage on the same store.
 */
export class CrashableStorage implements RaftStorage {
  private crashed = false;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Called as each batch is issued, before it reaches the store; may call {@link crash}. */
  beforeWrite: ((batch: StorageBatch) => void) | null = null;

  constructor(readonly inner: RaftStorage) {}

  get hasCrashed(): boolean {
    return this.crashed;
  }

  /** The crash point: from now on nothing reaches the store and nothing is answered. */
  crash(): void {
    this.crashed = true;
  }

  /** Resolves once every operation issued before the crash has settled in the store underneath. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private call<T>(op: () => Promise<T>): Promise<T> {
    if (this.crashed) return Promise.reject(new CrashedError());
    const done = op();
    this.inFlight.add(done);
    const forget = () => this.inFlight.delete(done);
    done.then(forget, forget);
    return done.then((value) => {
      if (this.crashed) throw new CrashedError();
      return value;
    });
  }

  writeBatch(batch: StorageBatch): Promise<void> {
    this.beforeWrite?.(batch);
    return this.call(() => this.inner.writeBatch(batch));
  }
  readHardState(): Promise<HardState> {
    return this.call(() => this.inner.readHardState());
  }
  firstIndex(): Promise<number> {
    return this.call(() => this.inner.firstIndex());
  }
  lastIndex(): Promise<number> {
    return this.call(() => this.inner.lastIndex());
  }
  getLog(index: number): Promise<Entry | undefined> {
    return this.call(() => this.inner.getLog(index));
  }
  getLogs(from: number, to: number): Promise<Entry[]> {
    return this.call(() => this.inner.getLogs(from, to));
  }
  storeLog(entry: Entry): Promise<void> {
    return this.call(() => this.inner.storeLog(entry));
  }
  storeLogs(entries: readonly Entry[]): Promise<void> {
    return this.call(() => this.inner.storeLogs(entries));
  }
  deleteRange(min: number, max: number): Promise<void> {
    return this.call(() => this.inner.deleteRange(min, max));
  }
  set(key: StableKey, value: Uint8Array): Promise<void> {
    return this.call(() => this.inner.set(key, value));
  }
  get(key: StableKey): Promise<Uint8Array | undefined> {
    return this.call(() => this.inner.get(key));
  }
  setUint64(key: StableKey, value: number): Promise<void> {
    return this.call(() => this.inner.setUint64(key, value));
  }
  getUint64(key: StableKey): Promise<number | undefined> {
    return this.call(() => this.inner.getUint64(key));
  }
  list(): Promise<SnapshotRecord[]> {
    return this.call(() => this.inner.list());
  }
  open(id: string): Promise<{ record: SnapshotRecord; chunks: AsyncIterable<Uint8Array> }> {
    return this.call(() => this.inner.open(id));
  }
  async create(meta: SnapshotMeta): Promise<SnapshotSink> {
    const sink = await this.call(() => this.inner.create(meta));
    // A snapshot being written when the process dies is abandoned: never closed, so never visible.
    return {
      id: sink.id,
      write: (chunk) => this.call(() => sink.write(chunk)),
      close: () => this.call(() => sink.close()),
      cancel: () => this.call(() => sink.cancel()),
    };
  }
  /** Closes the store underneath (the harness does this on crash, once issued writes settled). */
  close(removeStorage?: boolean): Promise<void> {
    return this.inner.close(removeStorage);
  }
}
