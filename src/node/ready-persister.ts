import type { Ready } from '../core/ready.js';
import type { Entry, HardState } from '../core/types.js';
import type { RaftStorage, StorageBatch } from '../storage/types.js';

interface Waiting {
  /** What this Ready adds to the next write; null when it adds nothing. */
  readonly batch: StorageBatch | null;
  /** Settles the Ready's promise once the write that holds its batch is durable; null: deferred. */
  readonly settle: { resolve(): void; reject(err: unknown): void } | null;
}

/**
 * Deferred Readies (see {@link ReadyPersister.persist}) whose entries are written anyway once this
 * many wait, so that memory and the next write stay bounded should no durable Ready come.
 */
export const MAX_DEFERRED_ENTRIES = 1024;

/**
 * Writes what Readies ask to persist, in order, one synced batch at a time. Readies that arrive
 * while a write runs are merged into the next one (group commit), and each Ready's promise
 * resolves once its state, and everything before it, is durable.
 *
 * One exception: a hard state that moves nothing but the commit index is held back and goes out
 * with the next write. Raft keeps the commit index in volatile state (a restarted server relearns
 * it from its leader, and never starts below its snapshot), so this costs nothing in safety, and
 * it takes a disk write off the path of every commit: followers answer the leader's commit notice
 * without touching the disk.
 *
 * A Ready the core lets wait (`RaftCore.mayDeferWrite`: a non-voter's that sends nothing) resolves
 * at once, and its batch goes out merged into the write of the next Ready that must be durable.
 */
export class ReadyPersister {
  /** Synced batches written, and the entries in them; Readies whose write was deferred (for stats). */
  batches = 0;
  entries = 0;
  deferredReadies = 0;
  /** The newest hard state written or queued. */
  private queued: HardState;
  private held: HardState | null = null;
  /** In order: Readies waiting for the next write, and deferred ones, whose promise has resolved. */
  private waiting: Waiting[] = [];
  private deferredEntries = 0;
  private writing = false;
  private failure: { err: unknown } | null = null;

  constructor(
    private readonly storage: RaftStorage,
    initial: HardState,
  ) {
    this.queued = initial;
  }

  /**
   * Resolves once `ready`'s state and everything persisted before it are durable; with `defer`, at
   * once, while its state waits in memory for the next durable Ready's write (a crash loses it).
   */
  persist(ready: Ready, { defer = false }: { defer?: boolean } = {}): Promise<void> {
    const batch = this.batchOf(ready);
    if (!defer || this.failure !== null) return this.enqueue(batch);
    if (batch !== null) {
      this.waiting.push({ batch, settle: null });
      this.deferredEntries += batch.entries.length;
      this.deferredReadies++;
    }
    if (this.deferredEntries >= MAX_DEFERRED_ENTRIES) return this.enqueue(null);
    return Promise.resolve();
  }

  /** Resolves once every Ready persisted so far, deferred or not, is durable. */
  drained(): Promise<void> {
    return this.enqueue(null);
  }

  private enqueue(batch: StorageBatch | null): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure.err);
    if (batch === null && !this.writing && this.waiting.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ batch, settle: { resolve, reject } });
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
    // Deferred batches alone wait: they go out with the next Ready that must be durable.
    if (this.writing || !this.waiting.some((w) => w.settle !== null)) return;
    const group = this.waiting;
    this.waiting = [];
    this.deferredEntries = 0;
    const batch = mergeBatches(group.map((w) => w.batch));
    this.writing = true;
    const written =
      batch === null
        ? Promise.resolve()
        : this.storage.writeBatch(batch).then(() => {
            this.batches++;
            this.entries += batch.entries.length;
          });
    written.then(
      () => {
        this.writing = false;
        for (const w of group) w.settle?.resolve();
        this.pump();
      },
      (err: unknown) => {
        // Nothing after a failed write may be reported durable: fail everything, now and later.
        this.writing = false;
        this.failure = { err };
        const failed = [...group, ...this.waiting];
        this.waiting = [];
        for (const w of failed) w.settle?.reject(err);
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
