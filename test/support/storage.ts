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
      // An installed snapshot replaces the whole log: the core only installs one that its log
      // does not already contain.
      this.snapshot = ready.snapshot;
      this.entries = [];
    }
    if (ready.hardState !== null) this.hardState = ready.hardState;
    const first = ready.entries[0];
    if (first !== undefined) {
      this.entries = this.entries.filter((e) => e.index < first.index);
      this.entries.push(...ready.entries);
    }
  }

  /** Records a local snapshot and drops the entries up to `compactedTo` (log compaction). */
  saveSnapshot(snapshot: SnapshotMeta, compactedTo: number): void {
    if (snapshot.index > this.snapshot.index) this.snapshot = snapshot;
    this.entries = this.entries.filter((e) => e.index > compactedTo);
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
