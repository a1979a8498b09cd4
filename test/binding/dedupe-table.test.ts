import { describe, expect, it } from 'vitest';
import { DEDUPE_WINDOW, DedupeTable } from '../../src/binding/dedupe-table.js';

describe('DedupeTable.fromRecords', () => {
  it('keeps only the seqs inside each session window, and the sessions in their order', () => {
    const table = DedupeTable.fromRecords([
      { member: 'old', floor: 10, seqs: [9, 10, 11, 10 + DEDUPE_WINDOW, 11 + DEDUPE_WINDOW] },
      { member: 'new', floor: 0, seqs: [1, 2] },
    ]);
    expect(table.records()).toEqual([
      { member: 'old', floor: 10, seqs: [11, 10 + DEDUPE_WINDOW] },
      { member: 'new', floor: 0, seqs: [1, 2] },
    ]);
    expect(table.stats()).toEqual({ sessions: 2, seqs: 4 });
    // What was kept is a duplicate; the floor itself and below are expired; a free seq applies.
    expect(table.admit('old', 11, 0)).toBe('duplicate');
    expect(table.admit('old', 10, 0)).toBe('expired');
    expect(table.admit('old', 12, 0)).toBe('applied');
  });

  it('a session used again moves to the most recently used end', () => {
    const table = DedupeTable.fromRecords([
      { member: 'a', floor: 0, seqs: [1] },
      { member: 'b', floor: 0, seqs: [1] },
    ]);
    table.admit('a', 2, 0);
    table.admit('a', 3, 0);
    expect(table.records().map((r) => r.member)).toEqual(['b', 'a']);
    table.admit('b', 2, 0);
    expect(table.records().map((r) => r.member)).toEqual(['a', 'b']);
  });
});
