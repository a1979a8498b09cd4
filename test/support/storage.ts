import type { CoreInitialState, Entry, HardState, Ready, SnapshotMeta } from '../../src/core/index.js';

/**
 * Stable storage for a test core: it keeps exactly what a Ready asked to persist, and nothing
 * else, so a simulated crash (rebuilding the core from here) loses everything not yet persisted.
 */
export class MemStorage {
  hardState: HardState = { term: 0, vote: null, commit: 0 };
  snapshot: SnapshotMeta;
  entries: Entry[] = [];

  constructor(snapshot: SnapshotMeta) {
    this.snapshot = snapshot;
  }

  /** Persists a Ready's snapshot, hard state and entries, following the Ready contract. */
  persist(ready: Ready): void {
    if (ready.snapshot !== null) {
      this.snapshot = ready.snapshot;
      const index = ready.snapshot.index;
      const kept = this.entries.filter((e) => e.index > index);
      const first = kept[0];
      // Keep the suffix only when it continues the snapshot; otherwise the log restarts after it.
      this.entries = first !== undefined && first.index === index + 1 ? kept : [];
    }
    if (ready.hardState !== null) this.hardState = ready.hardState;
    const first = ready.entries[0];
    if (first !== undefined) {
      this.entries = this.entries.filter((e) => e.index < first.index);
      this.entries.push(...ready.entries);
    }
  }

  /** Drops entries up to `index` after a local snapshot (log compaction). */
  compact(snapshot: SnapshotMeta): void {
    this.snapshot = snapshot;
    this.entries = this.entries.filter((e) => e.index > snapshot.index);
  }

  /** What a restarted core starts from. */
  initialState(): CoreInitialState {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: [...this.entries] };
  }

  /** The persisted entry at `index`, if any. */
  entry(index: number): Entry | undefined {
    const first = this.entries[0];
    return first === undefined ? undefined : this.entries[index - first.index];
  }
}
