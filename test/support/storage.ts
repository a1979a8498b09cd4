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

  /** A commit-only hard state held back by {@link persist}, written with the next write. */
  private heldHardState: HardState | null = null;

  /**
   * Persists a Ready's snapshot, hard state and entries, following the Ready contract. With
   * `holdCommit`, a hard state that moves only the commit index and comes without anything else to
   * write is held back until the next write, as the node's runtime does. Returns the hard state
   * written, or null.
   */
  persist(ready: Ready, holdCommit = false): HardState | null {
    const h = ready.hardState;
    const nothingElse = ready.snapshot === null && ready.entries.length === 0;
    if (
      holdCommit &&
      nothingElse &&
      h !== null &&
      h.term === this.hardState.term &&
      h.vote === this.hardState.vote
    ) {
      this.heldHardState = h;
      return null;
    }
    if (ready.snapshot !== null) {
      // An installed snapshot replaces the whole log: the core only installs one that its log
      // does not already contain.
      this.snapshot = ready.snapshot;
      this.entries = [];
    }
    const written = h ?? (nothingElse ? null : this.heldHardState);
    if (written !== null) this.hardState = written;
    if (!nothingElse || h !== null) this.heldHardState = null;
    const first = ready.entries[0];
    if (first !== undefined) {
      this.entries = this.entries.filter((e) => e.index < first.index);
      this.entries.push(...ready.entries);
    }
    return written;
  }

  /** A crash loses what was held back. */
  dropHeld(): void {
    this.heldHardState = null;
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
