/**
 * mergeBatches folds the Readies that queued behind a running write into one write. Getting it
 * wrong loses or resurrects log entries, so each rule is shown as a transcript: the batches in,
 * the one batch out (`reset`, entries as index/term, the hard state).
 */
import { describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../../src/core/types.js';
import type { StorageBatch } from '../../src/index.js';
import { mergeBatches } from '../../src/node/ready-persister.js';

const e = (index: number, term: number): Entry => ({ index, term, type: 'command', data: new Uint8Array() });
const hs = (term: number, commit: number): HardState => ({ term, vote: null, commit });
const batch = (entries: Entry[], hardState: HardState | null = null, resetLog = false): StorageBatch => ({
  resetLog,
  entries,
  hardState,
});

/** `reset? 1/1 2/1 | term 1 commit 2`, or `nothing`. */
function show(b: StorageBatch | null): string {
  if (b === null) return 'nothing';
  const entries = b.entries.map((x) => `${x.index}/${x.term}`).join(' ') || '-';
  const hard =
    b.hardState === null ? 'no hard state' : `term ${b.hardState.term} commit ${b.hardState.commit}`;
  return `${b.resetLog ? 'reset ' : ''}${entries} | ${hard}`;
}

describe('mergeBatches', () => {
  it('folds batches in order (transcript)', () => {
    const cases: Array<[string, Array<StorageBatch | null>, string]> = [
      ['no batch at all', [null, null], 'nothing'],
      [
        'appends follow each other; the newest hard state wins',
        [batch([e(1, 1), e(2, 1)], hs(1, 0)), null, batch([e(3, 1)], hs(1, 2))],
        '1/1 2/1 3/1 | term 1 commit 2',
      ],
      [
        'a hard state alone keeps the entries before it',
        [batch([e(1, 1)]), batch([], hs(2, 1))],
        '1/1 | term 2 commit 1',
      ],
      [
        'a batch without a hard state keeps the earlier one',
        [batch([e(1, 1)], hs(1, 1)), batch([e(2, 1)])],
        '1/1 2/1 | term 1 commit 1',
      ],
      [
        'a rewrite replaces from its first index on',
        [batch([e(1, 1), e(2, 1), e(3, 1)]), batch([e(2, 2), e(3, 2)], hs(2, 1))],
        '1/1 2/2 3/2 | term 2 commit 1',
      ],
      [
        'a rewrite at the very first index replaces everything',
        [batch([e(4, 1), e(5, 1)]), batch([e(4, 3)])],
        '4/3 | no hard state',
      ],
      [
        'a rewrite of the last entry alone',
        [batch([e(1, 1), e(2, 1)]), batch([e(2, 2)])],
        '1/1 2/2 | no hard state',
      ],
      [
        'a snapshot resets the log: nothing written before it survives',
        [batch([e(1, 1), e(2, 1)]), batch([], hs(3, 9), true)],
        'reset - | term 3 commit 9',
      ],
      [
        'appends after a reset follow it, and the reset stays',
        [batch([e(1, 1)]), batch([e(10, 3)], hs(3, 9), true), batch([e(11, 3)])],
        'reset 10/3 11/3 | term 3 commit 9',
      ],
    ];
    expect(cases.map(([name, batches]) => `${name}: ${show(mergeBatches(batches))}`)).toEqual(
      cases.map(([name, , expected]) => `${name}: ${expected}`),
    );
  });

  it('does not change the batches it merges', () => {
    const first = batch([e(1, 1), e(2, 1)]);
    const second = batch([e(2, 2)]);
    mergeBatches([first, second]);
    expect(show(first)).toBe('1/1 2/1 | no hard state');
    expect(show(second)).toBe('2/2 | no hard state');
  });
});
