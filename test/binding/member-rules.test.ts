import { describe, expect, it } from 'vitest';
import {
  deadMemberDecision,
  toleranceWarnings,
  votingProblem,
  withoutVote,
} from '../../src/binding/member-rules.js';
import type { Configuration, Suffrage } from '../../src/index.js';

function config(servers: Record<string, Suffrage>): Configuration {
  return { servers: Object.entries(servers).map(([id, suffrage]) => ({ id, suffrage })) };
}

const voters = (...ids: string[]) => config(Object.fromEntries(ids.map((id) => [id, 'voter'])));

describe('majority, votingProblem and toleranceWarnings', () => {
  it('refuses a configuration without voters, or whose live voters are fewer than a majority', () => {
    expect(votingProblem(config({ n: 'nonvoter' }), null)).toBe('it would leave no voter');
    expect(votingProblem(voters('a', 'b'), null)).toBeNull();
    expect(votingProblem(voters('a', 'b'), new Set(['a']))).toBe(
      'only 1 of the 2 voters left would be live, fewer than a majority (2): the group would stop',
    );
    expect(votingProblem(voters('a', 'b', 'c'), new Set(['a', 'c']))).toBeNull();
    // Live non-voters do not make up for dead voters.
    expect(
      votingProblem(config({ a: 'voter', b: 'voter', n: 'nonvoter' }), new Set(['a', 'n'])),
    ).not.toBeNull();
  });

  it('warns when the voters tolerate no failure, or when every live voter is needed', () => {
    expect(toleranceWarnings(voters('a'), null)).toEqual([
      'the group keeps 1 voter: it tolerates no failure; add a member to restore fault tolerance',
    ]);
    expect(toleranceWarnings(voters('a', 'b'), null)).toHaveLength(1);
    expect(toleranceWarnings(voters('a', 'b', 'c'), null)).toEqual([]);
    expect(toleranceWarnings(voters('a', 'b', 'c'), new Set(['a', 'b', 'c']))).toEqual([]);
    expect(toleranceWarnings(voters('a', 'b', 'c', 'd'), new Set(['a', 'b', 'c']))).toEqual([
      'only 3 of the 4 voters are live, exactly a majority: one more failure stops the group',
    ]);
  });
});

describe('withoutVote', () => {
  it('removes the member, or keeps it as a non-voter', () => {
    expect(withoutVote(voters('a', 'b'), 'b', 'remove')).toEqual(voters('a'));
    expect(withoutVote(voters('a', 'b'), 'b', 'demote')).toEqual(config({ a: 'voter', b: 'nonvoter' }));
  });

  it('gives no tolerance warning for a configuration without voters (votingProblem refuses it)', () => {
    expect(toleranceWarnings(config({ n: 'nonvoter' }), null)).toEqual([]);
  });
});

describe('deadMemberDecision', () => {
  const base = { self: 'a', now: 10_000, deadAfterMs: 1000, liveWithinMs: 100, watchedSince: () => 0 };
  const heard = (times: Record<string, number | null>) => (id: string) => times[id] ?? null;

  it('removes a voter silent for the timeout when the voters left keep a live majority', () => {
    const decision = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c'),
      lastContact: heard({ b: 9_990, c: 8_500 }),
    });
    expect(decision).toEqual({ remove: 'c', kept: [] });
  });

  it('removes nothing while every member was heard within the timeout', () => {
    const decision = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c'),
      lastContact: heard({ b: 9_990, c: 9_001 }),
    });
    expect(decision).toEqual({ remove: null, kept: [] });
  });

  it('keeps a dead voter whose removal would leave fewer live voters than a majority', () => {
    // c died long ago; b is silent too (not yet dead, but not live): {a, b} would have one live voter.
    const decision = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c'),
      lastContact: heard({ b: 9_500, c: 1_000 }),
    });
    expect(decision).toEqual({
      remove: null,
      kept: [
        {
          id: 'c',
          reason:
            'only 1 of the 2 voters left would be live, fewer than a majority (2): the group would stop',
        },
      ],
    });
  });

  it('removes non-voters first, then the longest silent voter, and counts silence from when watching began', () => {
    const decision = deadMemberDecision({
      ...base,
      config: config({ a: 'voter', b: 'voter', c: 'voter', d: 'voter', e: 'voter', n: 'nonvoter' }),
      lastContact: heard({ b: 9_990, c: 9_990, d: 5_000, e: 2_000, n: 8_000 }),
    });
    expect(decision.remove).toBe('n');
    const voterOnly = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c', 'd', 'e'),
      lastContact: heard({ b: 9_990, c: 9_990, d: 5_000, e: 2_000 }),
    });
    expect(voterOnly.remove).toBe('e');
    // A member never heard from is dead only once the leader has watched it for the timeout.
    const fresh = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c'),
      lastContact: heard({ b: 9_990, c: null }),
      watchedSince: (id) => (id === 'c' ? 9_500 : 0),
    });
    expect(fresh.remove).toBeNull();
    const watched = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c'),
      lastContact: heard({ b: 9_990 }),
    });
    expect(watched.remove).toBe('c');
  });

  it('is dead at exactly the timeout, and live at exactly the live window', () => {
    // c silent exactly deadAfterMs: dead. b heard exactly liveWithinMs ago: live, so the voters
    // left, {a, b}, keep a live majority.
    const decision = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c'),
      lastContact: heard({ b: 9_900, c: 9_000 }),
    });
    expect(decision).toEqual({ remove: 'c', kept: [] });
    const notYet = deadMemberDecision({
      ...base,
      config: voters('a', 'b', 'c'),
      lastContact: heard({ b: 9_900, c: 9_001 }),
    });
    expect(notYet.remove).toBeNull();
  });

  it('among equally silent dead members, removes the non-voter first, then the lower id', () => {
    const nonvoterLast = deadMemberDecision({
      ...base,
      config: config({ a: 'voter', b: 'voter', c: 'voter', z: 'nonvoter', y: 'voter' }),
      lastContact: heard({ b: 9_990, c: 9_990, y: 1_000, z: 1_000 }),
    });
    expect(nonvoterLast.remove).toBe('z');
    const byId = deadMemberDecision({
      ...base,
      config: config({ a: 'voter', b: 'voter', c: 'voter', e: 'voter', d: 'voter' }),
      lastContact: heard({ b: 9_990, c: 9_990, d: 1_000, e: 1_000 }),
    });
    expect(byId.remove).toBe('d');
    const byIdReversed = deadMemberDecision({
      ...base,
      config: config({ a: 'voter', b: 'voter', c: 'voter', d: 'voter', e: 'voter' }),
      lastContact: heard({ b: 9_990, c: 9_990, d: 1_000, e: 1_000 }),
    });
    expect(byIdReversed.remove).toBe('d');
  });

  it('never removes the leader itself', () => {
    const decision = deadMemberDecision({ ...base, config: voters('a'), lastContact: heard({}) });
    expect(decision).toEqual({ remove: null, kept: [] });
  });
});
