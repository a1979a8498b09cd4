import { describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/errors.js';
import { boundsAfterDelete } from '../../src/storage/log-rules.js';

const log = { first: 5, last: 10 };

describe('boundsAfterDelete', () => {
  it('deletes a prefix or a suffix, including one that reaches exactly the first or last entry', () => {
    expect(boundsAfterDelete(log, 1, 5)).toEqual({ first: 6, last: 10 });
    expect(boundsAfterDelete(log, 5, 7)).toEqual({ first: 8, last: 10 });
    expect(boundsAfterDelete(log, 10, 20)).toEqual({ first: 5, last: 9 });
    expect(boundsAfterDelete(log, 8, 10)).toEqual({ first: 5, last: 7 });
    expect(boundsAfterDelete(log, 5, 10)).toEqual({ first: 0, last: 0 });
  });

  it('changes nothing for an empty range, an empty log, or a range outside the log', () => {
    expect(boundsAfterDelete(log, 8, 6)).toEqual(log);
    expect(boundsAfterDelete({ first: 0, last: 0 }, 3, 9)).toEqual({ first: 0, last: 0 });
    expect(boundsAfterDelete(log, 1, 4)).toEqual(log);
    expect(boundsAfterDelete(log, 1, 2)).toEqual(log);
    expect(boundsAfterDelete(log, 11, 20)).toEqual(log);
    expect(boundsAfterDelete(log, 15, 20)).toEqual(log);
  });

  it('refuses to split the log', () => {
    let err: unknown;
    try {
      boundsAfterDelete(log, 6, 9);
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, 'INVALID_INPUT')).toBe(true);
  });
});
