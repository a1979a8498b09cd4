import type { NodeId } from './types.js';

/** The number of votes that make a majority of `size` voters. */
export function majority(size: number): number {
  return Math.floor(size / 2) + 1;
}

/**
 * The highest index that a majority of voters have matched: sort the voters' match indexes in
 * descending order and take the one at position majority - 1. Zero when there are no voters.
 */
export function quorumMatchIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) return 0;
  const matches = voters.map(matchOf).sort((a, b) => b - a);
  return matches[majority(voters.length) - 1] as number;
}

/** The outcome of counting votes so far. */
export type VoteOutcome = 'won' | 'lost' | 'pending';

/** Tallies `votes` (granted or rejected per voter) against the voter set. */
export function tallyVotes(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const need = majority(voters.length);
  if (granted >= need) return 'won';
  if (rejected > voters.length - need) return 'lost';
  return 'pending';
}

/** True when `active` holds a majority of `voters`. */
export function hasQuorum(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  return voters.filter(active).length >= majority(voters.length);
}
