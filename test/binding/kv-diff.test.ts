import { describe, expect, it } from 'vitest';
import { kvDiff } from '../../src/binding/kv-diff.js';
import { bytes } from '../support/fsm-helpers.js';

describe('kvDiff', () => {
  it('sets new and changed keys, deletes gone ones, in key order, and skips equal bytes', () => {
    const before = new Map([
      ['same', bytes('v')],
      ['changed', bytes('ab')],
      ['longer', bytes('a')],
      ['gone', bytes('x')],
    ]);
    const after = new Map([
      ['same', bytes('v')],
      ['changed', bytes('ac')],
      ['longer', bytes('aa')],
      ['added', bytes('')],
    ]);
    expect(kvDiff(before, after)).toEqual([
      { op: 'set', key: 'added', value: bytes('') },
      { op: 'set', key: 'changed', value: bytes('ac') },
      { op: 'delete', key: 'gone' },
      { op: 'set', key: 'longer', value: bytes('aa') },
    ]);
  });

  it('finds nothing between equal states held in different buffers', () => {
    expect(kvDiff(new Map([['k', bytes('value')]]), new Map([['k', bytes('value')]]))).toEqual([]);
  });
});
