import type { Entry, HardState } from './types.js';

/** The approximate wire size of an entry, used for the per-message byte limit. */
export function entrySize(entry: Entry): number {
  return entry.data.byteLength + 24;
}

/**
 * The core's in-memory view of the log: a compacted prefix (described by the snapshot's index and
 * term) followed by entries, of which those above {@link RaftLog.persisted} are not yet on stable
 * storage. The runtime loads the persisted entries at start-up, so every read here is synchronous.
 */
export class RaftLog {
  /** Index of the last entry covered by the snapshot (0 when there is none). */
  snapshotIndex: number;
  /** Term of the entry at {@link snapshotIndex}. */
  snapshotTerm: number;
  /** Highest index known committed (Raft Figure 2: commitIndex). */
  committed: number;
  /** Highest index handed to the application for applying. */
  applied: number;
  /** Highest index the runtime has confirmed is on stable storage. */
  persisted: number;
  /**
   * Highest index handed to the runtime to persist (at least {@link persisted}): with writes in
   * flight (see `RaftCore.accept`), entries between the two are being written.
   */
  handedOut: number;
  private entries: Entry[];

  constructor(snapshotIndex: number, snapshotTerm: number, entries: readonly Entry[], hard: HardState) {
    this.snapshotIndex = snapshotIndex;
    this.snapshotTerm = snapshotTerm;
    this.entries = [...entries];
    entries.forEach((e, i) => {
      if (e.index !== snapshotIndex + 1 + i) {
        throw new Error(`log entries are not contiguous after the snapshot at ${snapshotIndex}`);
      }
    });
    this.persisted = this.lastIndex();
    this.handedOut = this.persisted;
    // A persisted commit above the last entry can only come from a store that lost entries.
    if (hard.commit > this.lastIndex()) {
      throw new Error(`commit ${hard.commit} is beyond the last log index ${this.lastIndex()}`);
    }
    this.committed = Math.max(hard.commit, snapshotIndex);
    this.applied = snapshotIndex;
  }

  firstIndex(): number {
    return this.snapshotIndex + 1;
  }

  lastIndex(): number {
    return this.snapshotIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.at(-1)?.term ?? this.snapshotTerm;
  }

  /** The term of the entry at `index`, or undefined when it is compacted or beyond the end. */
  term(index: number): number | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    return this.entry(index)?.term;
  }

  /** The entry at `index`, or undefined when it is compacted or beyond the end. */
  entry(index: number): Entry | undefined {
    if (index <= this.snapshotIndex) return undefined;
    return this.entries[index - this.snapshotIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi), at most `maxCount` of them and at most `maxBytes` in total, but always at
   * least one when the range is not empty, so a single large entry still makes progress.
   */
  slice(
    lo: number,
    hi: number,
    maxCount = Number.POSITIVE_INFINITY,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Entry[] {
    if (lo <= this.snapshotIndex) throw new Error(`slice from ${lo} reaches into the snapshot`);
    const end = Math.min(hi, this.lastIndex() + 1, lo + maxCount);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < end; i++) {
      const e = this.entries[i - this.snapshotIndex - 1] as Entry;
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Appends entries that continue the log directly (leader proposals). */
  append(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1)
      throw new Error(`append of ${entry.index} after ${this.lastIndex()}`);
    this.entries.push(entry);
  }

  /**
   * The follower side of AppendEntries (Raft §5.3): when the log holds `prevIndex` with `prevTerm`,
   * drops any suffix that conflicts with `entries`, appends what is new, and returns the index of
   * the last entry the request vouched for. Returns undefined when the consistency check fails.
   * Entries already present with matching terms are kept: a delayed, shorter request must never
   * truncate entries a later request already appended.
   */
  tryAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k] as Entry;
      if (e.index <= this.snapshotIndex) continue;
      const have = this.term(e.index);
      if (have === e.term) continue;
      if (have !== undefined) this.truncateFrom(e.index);
      for (let j = k; j < entries.length; j++) this.entries.push(entries[j] as Entry);
      break;
    }
    return lastNew;
  }

  private truncateFrom(index: number): void {
    if (index <= this.committed) {
      throw new Error(`refusing to truncate committed entry ${index} (commit ${this.committed})`);
    }
    this.entries.length = index - this.snapshotIndex - 1;
    this.persisted = Math.min(this.persisted, index - 1);
    this.handedOut = Math.min(this.handedOut, index - 1);
  }

  /**
   * For a rejected AppendEntries at (`index`, `term`): the largest index at or below `index` whose
   * term is at most `term`. Every entry above it is known to conflict, so replication can resume
   * there (the "fast backtracking" optimisation, Raft §5.3 last paragraphs).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapshotIndex; i--) {
      const t = this.term(i) as number;
      if (t <= term) return { index: i, term: t };
    }
    return { index: this.snapshotIndex, term: this.snapshotTerm };
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex()) throw new Error(`commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** Entries not yet handed to the runtime to persist, in order. */
  unpersisted(): Entry[] {
    return this.handedOut >= this.lastIndex() ? [] : this.entries.slice(this.handedOut - this.snapshotIndex);
  }

  /** Records that the runtime took the entries up to `index` to persist them. */
  handedOutTo(index: number): void {
    this.handedOut = Math.max(this.handedOut, index);
  }

  /**
   * Records that entries up to `index` with `term` are persisted. Ignored when the log has since
   * been truncated and rewritten at that index, since the persisted entry is then a different one.
   */
  persistedTo(index: number, term: number): void {
    if (index > this.persisted && this.matchTerm(index, term)) {
      this.persisted = index;
      this.handedOut = Math.max(this.handedOut, index);
    }
  }

  /** Committed entries not yet handed to the application, at most `maxCount`. */
  toApply(maxCount: number): Entry[] {
    const lo = this.applied + 1;
    if (lo > this.committed) return [];
    return this.slice(lo, this.committed + 1, maxCount);
  }

  /** Discards entries up to and including `index`, which must be applied. */
  compact(index: number): void {
    if (index <= this.snapshotIndex) return;
    if (index > this.applied) throw new Error(`compaction to ${index} beyond applied ${this.applied}`);
    const term = this.term(index) as number;
    this.entries = this.entries.slice(index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  /** Replaces the whole log with a snapshot's prefix (the follower side of InstallSnapshot). */
  restore(index: number, term: number): void {
    this.entries = [];
    this.snapshotIndex = index;
    this.snapshotTerm = term;
    this.committed = index;
    this.applied = index;
    this.persisted = index;
    this.handedOut = index;
  }
}
