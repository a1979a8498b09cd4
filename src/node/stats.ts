import type { PeerDropReason } from '../core/peer-rules.js';
import type { CoreStatus } from '../core/raft.js';
import type { NodeId, Role } from '../core/types.js';
import type { NodeDropReason } from './peer-input.js';

/** A snapshot of the node's counters and positions, for monitoring. */
export interface RaftStats {
  readonly id: NodeId;
  readonly state: Role;
  readonly term: number;
  readonly leader: NodeId | null;
  /** On a leader transferring its leadership (thesis §3.10), the server it hands over to. */
  readonly transferTarget: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly lastSnapshotIndex: number;
  readonly configurationIndex: number;
  readonly voters: number;
  readonly pendingProposals: number;
  readonly readiesHandled: number;
  readonly entriesPersisted: number;
  /** Synced batches written (a Ready's state each, or several merged). */
  readonly batchesPersisted: number;
  /** A non-voter's Readies whose write waited for a later Ready's (`RaftCore.mayDeferWrite`). */
  readonly readiesDeferred: number;
  /**
   * Peer messages dropped for breaking a rule or a bound, by reason: the core's (`PeerDropReason`)
   * and the node's (`NodeDropReason`). See docs/protocol.md, "Validation and drops".
   */
  readonly droppedMessages: Readonly<Partial<Record<PeerDropReason | NodeDropReason, number>>>;
}

/** What the node counts itself, beside the core's status. */
export interface NodeCounters {
  readonly appliedIndex: number;
  readonly lastSnapshotIndex: number;
  readonly pendingProposals: number;
  /** Readies handled, entries persisted, synced batches written, Readies whose write waited. */
  readonly readies: number;
  readonly entries: number;
  readonly batches: number;
  readonly deferredReadies: number;
  readonly dropped: Readonly<Partial<Record<NodeDropReason, number>>>;
}

/** Combines the core's status and the node's counters. */
export function nodeStats(s: CoreStatus, c: NodeCounters): RaftStats {
  return {
    id: s.id,
    state: s.role,
    term: s.term,
    leader: s.leader,
    transferTarget: s.transferTarget,
    commitIndex: s.commitIndex,
    appliedIndex: c.appliedIndex,
    lastLogIndex: s.lastIndex,
    lastLogTerm: s.lastTerm,
    lastSnapshotIndex: c.lastSnapshotIndex,
    configurationIndex: s.configurationIndex,
    voters: s.configuration.servers.filter((x) => x.suffrage === 'voter').length,
    pendingProposals: c.pendingProposals,
    readiesHandled: c.readies,
    entriesPersisted: c.entries,
    batchesPersisted: c.batches,
    readiesDeferred: c.deferredReadies,
    droppedMessages: { ...s.droppedMessages, ...c.dropped },
  };
}
