import type { Ready } from '../core/ready.js';
import type { Entry, HardState } from '../core/types.js';
import type { RaftStorage, StorageBatch } from '../storage/types.js';

interface Waiting {
  /** What this Ready adds to the next write; null when it adds nothing. */
  readonly batch: StorageBatch | null;
  /** Whether this Ready, and everything written before it, must be durable when it resolves. */
  readonly sync: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Writes what Readies ask to persist, in order, one batch at a time. Readies that arrive
 * while a write runs are merged into the next one (group commit), and each Ready's promise
 * resolves once its state, and everything before it, is durable.
 *
 * One exception: a hard state that moves nothing but the commit index is held back and goes out
 * with the next write. Raft keeps the commit index in volatile state (a restarted server relearns
 * it from its leader, and never starts below its snapshot), so this costs nothing in safety, and
 * it takes a disk write off the path of every commit: followers answer the leader's commit notice
 * without touching the disk.
 *
 * A Ready the core allows to stay unsynced (`RaftCore.needsSync`) is written without a sync; the
 * next Ready that must be durable syncs it too, with a write of its own when it has nothing else
 * to write, since LevelDB syncs its write-ahead log up to the synced write.
 */
export class ReadyPersister {
  /** Batches written (synced or not), those left unsynced, and the entries in them (for stats). */
  batches = 0;
  unsyncedBatches = 0;
  entries = 0;
  /** The newest hard state written or queued. */
  private queued: HardState;
  private held: HardState | null = null;
  private waiting: Waiting[] = [];
  private writing = false;
  /** An unsynced batch was written since the last synced one. */
  private unsynced = false;
  private failure: { err: unknown } | null = null;

  constructor(
    private readonly storage: RaftStorage,
    initial: HardState,
  ) {
    this.queued = initial;
  }

  /**
   * Resolves once `ready`'s state and everything persisted before it are written: durable, unless
   * `sync` is false (then only readable, until a later synced write).
   */
  persist(ready: Ready, { sync = true }: { sync?: boolean } = {}): Promise<void> {
    return this.enqueue(this.batchOf(ready), sync);
  }

  /** Resolves once every write queued so far is durable. */
  drained(): Promise<void> {
    return this.enqueue(null, true);
  }

  private enqueue(batch: StorageBatch | null, sync: boolean): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure.err);
    const nothingToDo = batch === null && !(sync && this.unsynced);
    if (nothingToDo && !this.writing && this.waiting.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ batch, sync, resolve, reject });
      this.pump();
    });
  }

  private batchOf(ready: Ready): StorageBatch | null {
    const { snapshot, entries, hardState } = ready;
    if (snapshot === null && entries.length === 0) {
      if (hardState === null) return null;
      if (hardState.term === this.queued.term && hardState.vote === this.queued.vote) {
        this.held = hardState;
        return null;
      }
    }
    const toWrite = hardState ?? this.held;
    this.held = null;
    if (toWrite !== null) this.queued = toWrite;
    return { resetLog: snapshot !== null, entries, hardState: toWrite };
  }

  private pump(): void {
    if (this.writing || this.waiting.length === 0) return;
    const group = this.waiting;
    this.waiting = [];
    const sync = group.some((w) => w.sync);
    const merged = mergeBatches(group.map((w) => w.batch));
    // Syncing what earlier batches left unsynced takes a write: the hard state again will do.
    const batch =
      merged ?? (sync && this.unsynced ? { resetLog: false, entries: [], hardState: this.queued } : null);
    this.writing = true;
    const written =
      batch === null
        ? Promise.resolve()
        : this.storage.writeBatch(batch, { sync }).then(() => {
            this.batches++;
            this.entries += batch.entries.length;
            if (!sync) this.unsyncedBatches++;
            this.unsynced = !sync;
          });
    written.then(
      () => {
        this.writing = false;
        for (const w of group) w.resolve();
        this.pump();
      },
      (err: unknown) => {
        // Nothing after a failed write may be reported durable: fail everything, now and later.
        this.writing = false;
        this.failure = { err };
        const failed = [...group, ...this.waiting];
        this.waiting = [];
        for (const w of failed) w.reject(err);
      },
    );
  }
}

/**
 * One batch with the effect of `batches` written in order: a later batch's entries replace the
 * earlier ones from its first index on (or all of them, with `resetLog`), and the newest hard
 * state wins.
 */
export function mergeBatches(batches: ReadonlyArray<StorageBatch | null>): StorageBatch | null {
  let resetLog = false;
  let entries: Entry[] = [];
  let hardState: HardState | null = null;
  let any = false;
  for (const b of batches) {
    if (b === null) continue;
    any = true;
    const first = b.entries[0]?.index;
    if (b.resetLog) {
      resetLog = true;
      entries = [...b.entries];
    } else if (first !== undefined) {
      // Appends are the rule (a leader's batches follow each other); only a rewrite filters.
      const last = entries.at(-1)?.index;
      // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator: the filter keeps every entry of an append anyway; the guard only spares the copy
      if (last !== undefined && first <= last) entries = entries.filter((e) => e.index < first);
      entries.push(...b.entries);
    }
    if (b.hardState !== null) hardState = b.hardState;
  }
  return any ? { resetLog, entries, hardState } : null;
}
