import type { Message, MessageDraft, NodeId, VoteRequest } from './types.js';

/** What a message from a higher term does to the receiver. */
export type HigherTermEffect =
  /** Ignore it entirely (a vote request during the leader lease). */
  | 'drop'
  /** Handle it without adopting its term (pre-votes, and granted pre-vote answers). */
  | 'keepTerm'
  /** Become a follower in its term first (Raft §5.1). */
  | 'adoptTerm';

/** True for the messages only a leader sends. */
export function isFromLeader(m: Message): boolean {
  return m.type === 'appendRequest' || m.type === 'heartbeatRequest' || m.type === 'snapshotRequest';
}

/** How a message with a term above ours is treated (Raft §5.1, thesis §4.2.3, §9.6). */
export function higherTermEffect(m: Message, inLeaderLease: boolean): HigherTermEffect {
  if (m.type === 'voteRequest') {
    // While a leader is known to be alive, ignore candidates, so a removed or partitioned server
    // cannot depose a healthy leader. A transfer overrides this on purpose.
    if (!m.transfer && inLeaderLease) return 'drop';
    // A pre-vote never changes the receiver's term.
    if (m.preVote) return 'keepTerm';
  }
  if (m.type === 'voteResponse' && m.preVote && m.granted) return 'keepTerm';
  return 'adoptTerm';
}

/** The answer to a message from a lower term, or null when it deserves none. */
export function staleTermAnswer(m: Message): MessageDraft | null {
  if (isFromLeader(m)) {
    // A deposed leader learns of the newer term from this answer. Without it, a leader cut off by
    // check-quorum or pre-vote could keep sending forever.
    return { type: 'appendResponse', to: m.from, success: false, index: 0, hintIndex: 0, hintTerm: 0 };
  }
  if (m.type === 'voteRequest') {
    // Raft Figure 2: the refusal carries our term, so a candidate that fell behind in terms
    // catches up instead of campaigning, unheard, one term at a time forever.
    return { type: 'voteResponse', to: m.from, preVote: m.preVote, granted: false };
  }
  return null;
}

/**
 * Raft §5.2 and §5.4.1: a vote goes to the first candidate of a term (or again to the same one),
 * only while no leader is known, and only to a log at least as up to date. A pre-vote for a later
 * term may be granted even after voting in this one, since it changes nothing.
 */
export function grantsVote(
  m: VoteRequest,
  state: { readonly term: number; readonly vote: NodeId | null; readonly leader: NodeId | null },
  candidateUpToDate: boolean,
): boolean {
  const canVote =
    state.vote === m.from ||
    (state.vote === null && state.leader === null) ||
    (m.preVote && m.term > state.term);
  return canVote && candidateUpToDate;
}
