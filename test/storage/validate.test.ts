import { describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/errors.js';
import { checkBatch, checkEntry } from '../../src/storage/validate.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    if (!isRaftError(err)) throw err;
    return err.code;
  }
}

describe('storage input validation', () => {
  it('refuses an entry or a batch that is not an object with INVALID_INPUT, not a TypeError', () => {
    for (const bad of [null, undefined, 3, 'entry']) {
      expect(codeOf(() => checkEntry(bad))).toBe('INVALID_INPUT');
      expect(codeOf(() => checkBatch(bad))).toBe('INVALID_INPUT');
    }
  });

  it('takes a missing hard state in a batch as none', () => {
    for (const hardState of [null, undefined]) {
      expect(checkBatch({ resetLog: false, entries: [], hardState })).toEqual({
        resetLog: false,
        entries: [],
        hardState: null,
      });
    }
  });
});
