/**
 * Plain data types shared by the pure Raft core and everything built on it. None of these types
 * carry behaviour; they are what the core reads, what it asks the runtime to persist and what it
 * asks the runtime to send.
 */

/** A server's stable identity; also its transport address. */
export type NodeId = string;

/**
 * What an entry means to the core:
 * - `command`: application data, opaque to the core;
 * - `noop`: appended by every new leader so that it can commit entries of its own term (Raft §5.4.2, §8);
 * - `config`: a membership configuration, in effect from the moment it is appended (thesis §4.1);
 * - `barrier`: applies nothing; its application proves every earlier entry has been applied.
 */
export type EntryType = 'command' | 'noop' | 'config' | 'barrier';

/** One log entry. Entries are immutable once created. */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  /** Application bytes for `command`; the encoded configuration for `config`; empty otherwise. */
  readonly data: Uint8Array;
}

/** A server's role in a configuration. `staging` is a non-voter that the leader promotes once caught up. */
export type Suffrage = 'voter' | 'nonvoter' | 'staging';

/** One member of a configuration. */
export interface Server {
  readonly id: NodeId;
  readonly suffrage: Suffrage;
}

/** The membership of the group: who votes, who only receives the log. */
export interface Configuration {
  readonly servers: readonly Server[];
}

/** The state Raft requires on stable storage before answering any RPC (Raft Figure 2), plus commit. */
export interface HardState {
  readonly term: number;
  /** Candidate voted for in `term`, or null. */
  readonly vote: NodeId | null;
  /** Highest index known committed; persisted so a restart can apply without waiting for a leader. */
  readonly commit: number;
}

/** Describes a snapshot: the log prefix it replaces and the configuration in force at its index. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly config: Configuration;
  /** Index of the entry that introduced `config` (0 when it came from bootstrap). */
  readonly configIndex: number;
}

/** The roles of a Raft server. `preCandidate` runs the pre-vote round (thesis §9.6) before a real election. */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term; for pre-votes, the term the sender would campaign in. */
  readonly term: number;
}

/** RequestVote (Raft §5.2) or its pre-vote form (thesis §9.6). */
export interface VoteRequest extends MessageBase {
  readonly type: 'voteRequest';
  readonly preVote: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Set when campaigning because of a leadership transfer: voters skip their leader-lease check. */
  readonly transfer: boolean;
}

/** Answer to a {@link VoteRequest}. */
export interface VoteResponse extends MessageBase {
  readonly type: 'voteResponse';
  readonly preVote: boolean;
  readonly granted: boolean;
}

/** AppendEntries (Raft §5.3). An empty `entries` list still carries the commit index. */
export interface AppendRequest extends MessageBase {
  readonly type: 'appendRequest';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Answer to an {@link AppendRequest} or a snapshot. On success `index` is the highest index now known
 * to match the leader. On rejection `index` is the rejected `prevIndex`, and `hintIndex`/`hintTerm`
 * name the last entry of the follower's log that might still match, so the leader can skip a whole
 * term per round trip instead of one entry.
 */
export interface AppendResponse extends MessageBase {
  readonly type: 'appendResponse';
  readonly success: boolean;
  readonly index: number;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/** Leader liveness and commit propagation. `context` identifies a read-index round (0 for none). */
export interface HeartbeatRequest extends MessageBase {
  readonly type: 'heartbeatRequest';
  readonly commit: number;
  readonly context: number;
}

/** Answer to a {@link HeartbeatRequest}, echoing its `context`. */
export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly context: number;
}

/**
 * InstallSnapshot. The snapshot's bytes are not in the message: the runtime streams them from the
 * leader's snapshot store, identified by `snapshot.index` and `snapshot.term`.
 */
export interface SnapshotRequest extends MessageBase {
  readonly type: 'snapshotRequest';
  readonly snapshot: SnapshotMeta;
}

/** Tells a transfer target to campaign at once, skipping pre-vote (thesis §3.10). */
export interface TimeoutNow extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower asks the leader for a read index on behalf of its clients. */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndexRequest';
  readonly requestId: number;
}

/** The leader's answer to a {@link ReadIndexRequest}; `index` is 0 and `ok` false when it could not serve it. */
export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly requestId: number;
  readonly ok: boolean;
  readonly index: number;
}

/** Everything cores say to each other. */
export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | HeartbeatRequest
  | HeartbeatResponse
  | SnapshotRequest
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

/** The kinds of {@link Message}. */
export type MessageType = Message['type'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A message before the sender stamps it with its id and term. */
export type MessageDraft = DistributiveOmit<Message, 'from' | 'term'>;
