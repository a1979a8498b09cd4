import { describe, expect, it } from 'vitest';
import { hasQuorum, majority, quorumMatchIndex, tallyVotes } from '../../src/core/quorum.js';

const matchesOf = (m: Record<string, number>) => (id: string) => m[id] ?? 0;

describe('majority', () => {
  it('is more than half of the voters', () => {
    expect(majority(1)).toBe(1);
    expect(majority(2)).toBe(2);
    expect(majority(3)).toBe(2);
    expect(majority(4)).toBe(3);
    expect(majority(5)).toBe(3);
    expect(majority(6)).toBe(4);
    expect(majority(7)).toBe(4);
  });
});

describe('quorumMatchIndex', () => {
  it('is the only match for a single voter', () => {
    expect(quorumMatchIndex(['a'], matchesOf({ a: 7 }))).toBe(7);
  });

  it('is the second highest match of three voters', () => {
    expect(quorumMatchIndex(['a', 'b', 'c'], matchesOf({ a: 5, b: 3, c: 1 }))).toBe(3);
    expect(quorumMatchIndex(['a', 'b', 'c'], matchesOf({ a: 5, b: 5, c: 1 }))).toBe(5);
    expect(quorumMatchIndex(['a', 'b', 'c'], matchesOf({ a: 1, b: 9, c: 4 }))).toBe(4);
  });

  it('is the third highest match of four voters (two are not enough)', () => {
    expect(quorumMatchIndex(['a', 'b', 'c', 'd'], matchesOf({ a: 10, b: 8, c: 2, d: 1 }))).toBe(2);
    expect(quorumMatchIndex(['a', 'b', 'c', 'd'], matchesOf({ a: 10, b: 8, c: 6, d: 1 }))).toBe(6);
  });

  it('is the third highest match of five voters', () => {
    expect(quorumMatchIndex(['a', 'b', 'c', 'd', 'e'], matchesOf({ a: 9, b: 1, c: 7, d: 3, e: 5 }))).toBe(5);
    expect(quorumMatchIndex(['a', 'b', 'c', 'd', 'e'], matchesOf({ a: 9, b: 9 }))).toBe(0);
  });

  it('sorts numerically, not as strings', () => {
    expect(quorumMatchIndex(['a', 'b', 'c'], matchesOf({ a: 10, b: 9, c: 100 }))).toBe(10);
  });

  it('is zero without voters', () => {
    expect(quorumMatchIndex([], () => 5)).toBe(0);
  });
});

describe('tallyVotes', () => {
  const three = ['a', 'b', 'c'];
  const four = ['a', 'b', 'c', 'd'];

  it('is won once a majority granted', () => {
    expect(tallyVotes(three, new Map([['a', true]]))).toBe('pending');
    expect(
      tallyVotes(
        three,
        new Map([
          ['a', true],
          ['b', true],
        ]),
      ),
    ).toBe('won');
    expect(tallyVotes(['a'], new Map([['a', true]]))).toBe('won');
  });

  it('is lost once a majority can no longer be reached', () => {
    const votes = new Map([
      ['a', true],
      ['b', false],
    ]);
    expect(tallyVotes(three, votes)).toBe('pending');
    votes.set('c', false);
    expect(tallyVotes(three, votes)).toBe('lost');
  });

  it('with four voters, two rejections lose and two grants are still pending', () => {
    expect(
      tallyVotes(
        four,
        new Map([
          ['a', true],
          ['b', true],
          ['c', false],
        ]),
      ),
    ).toBe('pending');
    expect(
      tallyVotes(
        four,
        new Map([
          ['a', true],
          ['c', false],
          ['d', false],
        ]),
      ),
    ).toBe('lost');
  });

  it('ignores votes from servers that are not voters', () => {
    const votes = new Map([
      ['a', true],
      ['x', true],
      ['y', true],
    ]);
    expect(tallyVotes(three, votes)).toBe('pending');
    const rejections = new Map([
      ['a', true],
      ['x', false],
      ['y', false],
    ]);
    expect(tallyVotes(three, rejections)).toBe('pending');
  });
});

describe('hasQuorum', () => {
  it('holds when a majority of voters is active', () => {
    const five = ['a', 'b', 'c', 'd', 'e'];
    expect(hasQuorum(five, (id) => ['a', 'b', 'c'].includes(id))).toBe(true);
    expect(hasQuorum(five, (id) => ['a', 'b'].includes(id))).toBe(false);
    expect(hasQuorum(['a', 'b', 'c', 'd'], (id) => id !== 'd')).toBe(true);
    expect(hasQuorum(['a', 'b', 'c', 'd'], (id) => id === 'a' || id === 'b')).toBe(false);
    expect(hasQuorum(['a'], (id) => id === 'a')).toBe(true);
  });

  it('never holds without voters', () => {
    expect(hasQuorum([], () => true)).toBe(false);
  });
});
