import { describe, expect, it } from 'vitest';
import { membershipDiff, membersOf } from '../../src/binding/membership-observer.js';

const set = (...ids: string[]) => new Set(ids);

describe('membershipDiff', () => {
  it('reports leaves first, then joins, each sorted', () => {
    expect(membershipDiff(set('a', 'd', 'c'), set('a', 'f', 'b'))).toEqual([
      { id: 'c', joined: false },
      { id: 'd', joined: false },
      { id: 'b', joined: true },
      { id: 'f', joined: true },
    ]);
  });

  it('reports a departure alone, and nothing when nobody changed', () => {
    expect(membershipDiff(set('a', 'b', 'c'), set('a', 'c'))).toEqual([{ id: 'b', joined: false }]);
    expect(membershipDiff(set('a', 'b'), set('b', 'a'))).toEqual([]);
  });

  it('counts every server of a configuration as a member, voter or not', () => {
    const members = membersOf({
      servers: [
        { id: 'a', suffrage: 'voter' },
        { id: 'b', suffrage: 'nonvoter' },
        { id: 'c', suffrage: 'staging' },
      ],
    });
    expect([...members].sort()).toEqual(['a', 'b', 'c']);
  });
});
