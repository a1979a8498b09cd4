import { describe, expect, it } from 'vitest';
import { entrySize, RaftLog } from '../../src/core/log.js';
import type { Entry } from '../../src/core/types.js';
import { entries, entry } from './helpers.js';

const hard = (commit = 0) => ({ term: 0, vote: null, commit });

/** A log with the given terms at indexes 1..n, all persisted, nothing committed. */
function logWith(terms: readonly number[], commit = 0): RaftLog {
  return new RaftLog(0, 0, entries(1, terms), hard(commit));
}

const ids = (list: readonly Entry[]) => list.map((e) => `${e.index}:${e.term}`);

describe('RaftLog construction', () => {
  it('starts with everything loaded counted as persisted and the stored commit', () => {
    const log = logWith([1, 1, 2], 2);
    expect(log.firstIndex()).toBe(1);
    expect(log.lastIndex()).toBe(3);
    expect(log.lastTerm()).toBe(2);
    expect(log.persisted).toBe(3);
    expect(log.committed).toBe(2);
    expect(log.applied).toBe(0);
  });

  it('continues after a snapshot, whose index counts as committed and applied', () => {
    const log = new RaftLog(10, 3, entries(11, [3, 4]), hard(0));
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(12);
    expect(log.term(10)).toBe(3);
    expect(log.entry(10)).toBeUndefined();
    expect(log.committed).toBe(10);
    expect(log.applied).toBe(10);
  });

  it('rejects entries that do not continue the snapshot contiguously', () => {
    expect(() => new RaftLog(0, 0, [entry(1, 1), entry(3, 1)], hard())).toThrow(/not contiguous/);
    expect(() => new RaftLog(5, 1, [entry(5, 1)], hard())).toThrow(/not contiguous/);
  });

  it('rejects a stored commit beyond the last entry', () => {
    expect(() => new RaftLog(0, 0, entries(1, [1, 1]), hard(3))).toThrow(/beyond the last log index/);
  });

  it('reports undefined terms and entries outside the log', () => {
    const log = logWith([1, 2]);
    expect(log.term(0)).toBe(0);
    expect(log.term(3)).toBeUndefined();
    expect(log.entry(0)).toBeUndefined();
    expect(log.entry(3)).toBeUndefined();
    expect(log.matchTerm(2, 2)).toBe(true);
    expect(log.matchTerm(2, 1)).toBe(false);
  });
});

describe('RaftLog.slice', () => {
  // Every entry has 10 data bytes, so entrySize is 34.
  const log = new RaftLog(
    0,
    0,
    [1, 2, 3, 4, 5].map((i) => entry(i, 1, 'command', '0123456789')),
    hard(),
  );

  it('returns [lo, hi) clamped to the end of the log', () => {
    expect(entrySize(log.entry(1) as Entry)).toBe(34);
    expect(ids(log.slice(2, 4))).toEqual(['2:1', '3:1']);
    expect(ids(log.slice(4, 100))).toEqual(['4:1', '5:1']);
    expect(log.slice(6, 10)).toEqual([]);
    expect(log.slice(3, 3)).toEqual([]);
  });

  it('returns at most maxCount entries', () => {
    expect(ids(log.slice(1, 6, 2))).toEqual(['1:1', '2:1']);
  });

  it('stops before the entry that would exceed maxBytes', () => {
    expect(log.slice(1, 6, 100, 68)).toHaveLength(2);
    expect(log.slice(1, 6, 100, 67)).toHaveLength(1);
    expect(log.slice(1, 6, 100, 34 * 5)).toHaveLength(5);
  });

  it('always returns at least one entry, even one larger than maxBytes', () => {
    const big = new RaftLog(0, 0, [entry(1, 1, 'command', 'x'.repeat(1000)), entry(2, 1)], hard());
    expect(ids(big.slice(1, 3, 10, 1))).toEqual(['1:1']);
    expect(ids(log.slice(3, 6, 10, 0))).toEqual(['3:1']);
  });

  it('refuses to read into the compacted prefix', () => {
    const compacted = new RaftLog(3, 1, entries(4, [1, 1]), hard());
    expect(() => compacted.slice(3, 5)).toThrow(/snapshot/);
    expect(ids(compacted.slice(4, 6))).toEqual(['4:1', '5:1']);
  });
});

describe('RaftLog.append', () => {
  it('appends only the next index', () => {
    const log = logWith([1]);
    log.append(entry(2, 1));
    expect(log.lastIndex()).toBe(2);
    expect(() => log.append(entry(4, 1))).toThrow(/append of 4 after 2/);
    expect(() => log.append(entry(2, 1))).toThrow();
  });
});

describe('RaftLog.tryAppend (Raft §5.3 follower side)', () => {
  it('fails the consistency check when prevIndex is missing', () => {
    const log = logWith([1, 1]);
    expect(log.tryAppend(3, 1, [entry(4, 1)])).toBeUndefined();
    expect(log.lastIndex()).toBe(2);
  });

  it('fails the consistency check when the term at prevIndex differs', () => {
    const log = logWith([1, 1]);
    expect(log.tryAppend(2, 2, [entry(3, 2)])).toBeUndefined();
    expect(log.lastIndex()).toBe(2);
    expect(log.term(2)).toBe(1);
  });

  it('accepts prevIndex 0 on an empty log', () => {
    const log = new RaftLog(0, 0, [], hard());
    expect(log.tryAppend(0, 0, entries(1, [1, 1]))).toBe(2);
    expect(log.lastIndex()).toBe(2);
  });

  it('appends new entries after a matching prevIndex and returns the last new index', () => {
    const log = logWith([1, 1]);
    expect(log.tryAppend(2, 1, [entry(3, 1), entry(4, 2)])).toBe(4);
    expect(log.lastIndex()).toBe(4);
    expect(log.term(4)).toBe(2);
    expect(ids(log.unpersisted())).toEqual(['3:1', '4:2']);
  });

  it('returns prevIndex for an empty (heartbeat-like) request without changing the log', () => {
    const log = logWith([1, 1, 1]);
    expect(log.tryAppend(2, 1, [])).toBe(2);
    expect(log.lastIndex()).toBe(3);
  });

  it('keeps later matching entries when a delayed, shorter request arrives', () => {
    const log = logWith([1, 1, 1, 1]);
    // A delayed request that only vouches for index 2: nothing may be truncated.
    expect(log.tryAppend(1, 1, [entry(2, 1)])).toBe(2);
    expect(log.lastIndex()).toBe(4);
    expect(log.persisted).toBe(4);
    expect(log.unpersisted()).toEqual([]);
  });

  it('keeps the matching prefix of the request and appends only what is new', () => {
    const log = logWith([1, 1, 2]);
    expect(log.tryAppend(1, 1, [entry(2, 1), entry(3, 2), entry(4, 2)])).toBe(4);
    expect(log.lastIndex()).toBe(4);
    expect(ids(log.unpersisted())).toEqual(['4:2']);
  });

  it('truncates a conflicting suffix and replaces it', () => {
    const log = logWith([1, 1, 1, 1, 1]);
    expect(log.tryAppend(2, 1, [entry(3, 2), entry(4, 2)])).toBe(4);
    expect(log.lastIndex()).toBe(4);
    expect(log.term(3)).toBe(2);
    expect(log.term(4)).toBe(2);
    expect(log.entry(5)).toBeUndefined();
  });

  it('truncates at the first conflict inside the request, keeping the matching part', () => {
    const log = logWith([1, 1, 1, 1]);
    expect(log.tryAppend(1, 1, [entry(2, 1), entry(3, 3)])).toBe(3);
    expect(log.lastIndex()).toBe(3);
    expect(log.term(2)).toBe(1);
    expect(log.term(3)).toBe(3);
  });

  it('refuses to truncate a committed entry', () => {
    const log = logWith([1, 1, 1, 1]);
    log.commitTo(3);
    expect(() => log.tryAppend(2, 1, [entry(3, 2)])).toThrow(/refusing to truncate committed entry 3/);
    expect(log.term(3)).toBe(1);
    // Conflicts above the commit index are still fine.
    expect(log.tryAppend(3, 1, [entry(4, 2)])).toBe(4);
    expect(log.term(4)).toBe(2);
  });

  it('drops the persisted index when truncating below it', () => {
    const log = logWith([1, 1, 1, 1]);
    expect(log.persisted).toBe(4);
    log.tryAppend(2, 1, [entry(3, 2)]);
    expect(log.persisted).toBe(2);
    expect(ids(log.unpersisted())).toEqual(['3:2']);
  });

  it('leaves the persisted index alone when the truncation is above it', () => {
    const log = logWith([1, 1]);
    log.append(entry(3, 1));
    log.append(entry(4, 1));
    expect(log.persisted).toBe(2);
    log.tryAppend(3, 1, [entry(4, 2)]);
    expect(log.persisted).toBe(2);
    expect(ids(log.unpersisted())).toEqual(['3:1', '4:2']);
  });

  it('skips entries already covered by the snapshot', () => {
    const log = new RaftLog(5, 2, entries(6, [2]), hard());
    expect(log.tryAppend(5, 2, [entry(6, 2), entry(7, 3)])).toBe(7);
    expect(log.lastIndex()).toBe(7);
    expect(log.term(7)).toBe(3);
  });
});

describe('RaftLog.findConflictByTerm (fast backtracking)', () => {
  // index: 1 2 3 4 5 6
  // term:  1 1 2 2 4 4
  const log = logWith([1, 1, 2, 2, 4, 4]);

  it('returns the last index at or below `index` whose term is at most `term`', () => {
    expect(log.findConflictByTerm(6, 4)).toEqual({ index: 6, term: 4 });
    expect(log.findConflictByTerm(6, 3)).toEqual({ index: 4, term: 2 });
    expect(log.findConflictByTerm(6, 1)).toEqual({ index: 2, term: 1 });
    expect(log.findConflictByTerm(3, 5)).toEqual({ index: 3, term: 2 });
  });

  it('falls back to index 0 when every entry has a larger term', () => {
    expect(log.findConflictByTerm(6, 0)).toEqual({ index: 0, term: 0 });
  });

  it('clamps an index beyond the end of the log', () => {
    expect(log.findConflictByTerm(100, 3)).toEqual({ index: 4, term: 2 });
  });

  it('stops at the snapshot', () => {
    const compacted = new RaftLog(4, 2, entries(5, [4, 4]), hard());
    expect(compacted.findConflictByTerm(6, 3)).toEqual({ index: 4, term: 2 });
  });
});

describe('RaftLog.commitTo', () => {
  it('only moves forward and reports whether it moved', () => {
    const log = logWith([1, 1, 1]);
    expect(log.commitTo(2)).toBe(true);
    expect(log.committed).toBe(2);
    expect(log.commitTo(2)).toBe(false);
    expect(log.commitTo(1)).toBe(false);
    expect(log.committed).toBe(2);
  });

  it('refuses to commit beyond the last index', () => {
    const log = logWith([1, 1, 1]);
    expect(() => log.commitTo(4)).toThrow(/beyond last index/);
    expect(log.committed).toBe(0);
  });
});

describe('RaftLog.unpersisted / persistedTo', () => {
  it('hands out only entries above the persisted index', () => {
    const log = logWith([1, 1]);
    expect(log.unpersisted()).toEqual([]);
    log.append(entry(3, 1));
    log.append(entry(4, 1));
    expect(ids(log.unpersisted())).toEqual(['3:1', '4:1']);
    log.persistedTo(3, 1);
    expect(log.persisted).toBe(3);
    expect(ids(log.unpersisted())).toEqual(['4:1']);
    log.persistedTo(4, 1);
    expect(log.unpersisted()).toEqual([]);
  });

  it('hands out entries once: those being written are neither handed out again nor persisted', () => {
    const log = logWith([1, 1]);
    log.append(entry(3, 1));
    log.append(entry(4, 1));
    log.handedOutTo(4);
    expect(log.unpersisted()).toEqual([]);
    expect(log.persisted).toBe(2);
    log.append(entry(5, 1));
    expect(ids(log.unpersisted())).toEqual(['5:1']);
    log.persistedTo(4, 1);
    expect(log.persisted).toBe(4);
    // A truncation below what was handed out hands the rewritten entries out again.
    log.tryAppend(3, 1, [entry(4, 2)]);
    expect(ids(log.unpersisted())).toEqual(['4:2']);
    expect(log.persisted).toBe(3);
  });

  it('never moves the persisted index backwards', () => {
    const log = logWith([1, 1, 1]);
    log.persistedTo(1, 1);
    expect(log.persisted).toBe(3);
  });

  it('ignores a persistence report whose entry was since truncated and rewritten', () => {
    const log = logWith([1, 1]);
    log.append(entry(3, 1));
    log.append(entry(4, 1));
    // The runtime is writing 3:1 and 4:1 when a new leader replaces index 4.
    log.tryAppend(3, 1, [entry(4, 2)]);
    log.persistedTo(4, 1);
    expect(log.persisted).toBe(2);
    expect(ids(log.unpersisted())).toEqual(['3:1', '4:2']);
    log.persistedTo(4, 2);
    expect(log.persisted).toBe(4);
  });
});

describe('RaftLog.toApply', () => {
  it('hands out committed, unapplied entries in order, at most maxCount', () => {
    const log = logWith([1, 1, 1, 1]);
    expect(log.toApply(10)).toEqual([]);
    log.commitTo(3);
    expect(ids(log.toApply(10))).toEqual(['1:1', '2:1', '3:1']);
    expect(ids(log.toApply(2))).toEqual(['1:1', '2:1']);
    log.applied = 2;
    expect(ids(log.toApply(10))).toEqual(['3:1']);
    log.applied = 3;
    expect(log.toApply(10)).toEqual([]);
  });
});

describe('RaftLog.compact', () => {
  it('discards applied entries up to and including the index', () => {
    const log = logWith([1, 1, 2, 2]);
    log.commitTo(3);
    log.applied = 3;
    log.compact(2);
    expect(log.snapshotIndex).toBe(2);
    expect(log.snapshotTerm).toBe(1);
    expect(log.firstIndex()).toBe(3);
    expect(log.lastIndex()).toBe(4);
    expect(log.entry(2)).toBeUndefined();
    expect(log.term(2)).toBe(1);
    expect(log.term(1)).toBeUndefined();
    expect(ids(log.slice(3, 5))).toEqual(['3:2', '4:2']);
  });

  it('ignores an index at or below the current snapshot', () => {
    const log = logWith([1, 1, 2]);
    log.commitTo(3);
    log.applied = 3;
    log.compact(2);
    log.compact(1);
    log.compact(2);
    expect(log.snapshotIndex).toBe(2);
    expect(log.lastIndex()).toBe(3);
  });

  it('refuses to compact past the applied index', () => {
    const log = logWith([1, 1, 2]);
    log.commitTo(3);
    log.applied = 1;
    expect(() => log.compact(2)).toThrow(/beyond applied/);
    expect(log.snapshotIndex).toBe(0);
  });

  it('keeps the last term after compacting everything', () => {
    const log = logWith([1, 2]);
    log.commitTo(2);
    log.applied = 2;
    log.compact(2);
    expect(log.lastIndex()).toBe(2);
    expect(log.lastTerm()).toBe(2);
    expect(log.isUpToDate(2, 2)).toBe(true);
    expect(log.isUpToDate(2, 1)).toBe(false);
  });
});

describe('RaftLog.restore', () => {
  it('replaces the whole log with the snapshot prefix', () => {
    const log = logWith([1, 1, 1]);
    log.restore(10, 3);
    expect(log.firstIndex()).toBe(11);
    expect(log.lastIndex()).toBe(10);
    expect(log.lastTerm()).toBe(3);
    expect(log.term(10)).toBe(3);
    expect(log.entry(2)).toBeUndefined();
    expect(log.committed).toBe(10);
    expect(log.applied).toBe(10);
    expect(log.persisted).toBe(10);
    expect(log.unpersisted()).toEqual([]);
    expect(log.tryAppend(10, 3, [entry(11, 3)])).toBe(11);
  });
});

describe('RaftLog.isUpToDate (Raft §5.4.1)', () => {
  const log = logWith([1, 1, 2]);

  it('prefers the higher last term regardless of length', () => {
    expect(log.isUpToDate(1, 3)).toBe(true);
    expect(log.isUpToDate(100, 1)).toBe(false);
  });

  it('with equal last terms, prefers the longer log and accepts equal length', () => {
    expect(log.isUpToDate(3, 2)).toBe(true);
    expect(log.isUpToDate(4, 2)).toBe(true);
    expect(log.isUpToDate(2, 2)).toBe(false);
  });

  it('treats any log as up to date against an empty one', () => {
    const empty = new RaftLog(0, 0, [], hard());
    expect(empty.isUpToDate(0, 0)).toBe(true);
    expect(empty.isUpToDate(1, 1)).toBe(true);
  });
});
