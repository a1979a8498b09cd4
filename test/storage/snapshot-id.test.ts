import { describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/core/types.js';
import { formatSnapshotId, isSnapshotId, newestFirst, snapshotIdSeq } from '../../src/storage/snapshot-id.js';
import type { SnapshotRecord } from '../../src/storage/types.js';

function record(index: number, term: number, seq: number): SnapshotRecord {
  const meta: SnapshotMeta = { index, term, config: { servers: [] }, configIndex: 0 };
  return { id: formatSnapshotId(meta, seq), meta, size: 0 };
}

describe('snapshot ids', () => {
  it('lists newest first: by index, then term, then the order the store made them', () => {
    const made = [
      record(5, 2, 1),
      record(9, 1, 2),
      record(5, 3, 3),
      record(5, 2, 4),
      record(9, 1, 5),
      record(1, 9, 6),
    ];
    const listed = [...made].sort(newestFirst).map((r) => [r.meta.index, r.meta.term, snapshotIdSeq(r.id)]);
    expect(listed).toEqual([
      [9, 1, 5],
      [9, 1, 2],
      [5, 3, 3],
      [5, 2, 4],
      [5, 2, 1],
      [1, 9, 6],
    ]);
    const [one] = made as [SnapshotRecord];
    expect(newestFirst(one, one)).toBe(0);
    expect(newestFirst(record(5, 2, 1), record(5, 2, 4))).toBe(1);
    expect(newestFirst(record(5, 2, 4), record(5, 2, 1))).toBe(-1);
  });

  it('formats fixed-width ids whose parts read back, and refuses other shapes', () => {
    const id = formatSnapshotId({ index: 12, term: 3, config: { servers: [] }, configIndex: 0 }, 7);
    expect(id).toBe('0000000000000012-0000000000000003-0000000000000007');
    expect(isSnapshotId(id)).toBe(true);
    expect(snapshotIdSeq(id)).toBe(7);
    for (const other of ['', '12-3-7', `${id}-1`, id.replace('7', 'x'), `x${id}`]) {
      expect(isSnapshotId(other)).toBe(false);
      expect(snapshotIdSeq(other)).toBeUndefined();
    }
  });
});
