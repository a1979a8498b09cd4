import type { ConfigTracker } from './config-tracker.js';
import type { RaftLog } from './log.js';
import type { PeerDropReason } from './peer-rules.js';
import type { Configuration, NodeId, Role } from './types.js';

/** A read-only picture of the core for status pages and tests. */
export interface CoreStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly persistedIndex: number;
  readonly configuration: Configuration;
  readonly configurationIndex: number;
  readonly snapshotIndex: number;
  /** The target of a leadership transfer in progress, or null. */
  readonly transferTarget: NodeId | null;
  /** Peer messages dropped for breaking a rule, by reason (design §7; see `PeerDropReason`). */
  readonly droppedMessages: Readonly<Partial<Record<PeerDropReason, number>>>;
}

/** The status of a core whose log and configuration are `log` and `config`. */
export function describeCore(
  log: RaftLog,
  config: ConfigTracker,
  who: Pick<CoreStatus, 'id' | 'role' | 'term' | 'vote' | 'leader'>,
  rest: Pick<CoreStatus, 'snapshotIndex' | 'transferTarget' | 'droppedMessages'>,
): CoreStatus {
  return {
    ...who,
    commitIndex: log.committed,
    appliedIndex: log.applied,
    firstIndex: log.firstIndex(),
    lastIndex: log.lastIndex(),
    lastTerm: log.lastTerm(),
    persistedIndex: log.persisted,
    configuration: config.config,
    configurationIndex: config.index,
    ...rest,
  };
}
