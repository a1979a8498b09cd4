import type { Entry, HardState, Message, NodeId, Role, SnapshotMeta } from './types.js';

/** Volatile state worth reporting when it changes: who this server is in the group right now. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
}

/**
 * The outcome of a ReadIndex request. When `ok`, the read may be served once the applied index
 * reaches `index`; otherwise leadership could not be confirmed and the read must be retried.
 */
export interface ReadState {
  readonly requestId: number;
  readonly index: number;
  readonly ok: boolean;
}

/**
 * Everything the core needs the runtime to do, in this order:
 * 0. send `earlyMessages`; this may happen before or while step 1 runs;
 * 1. persist `snapshot` (if any: it replaces the whole stored log), then `hardState` and `entries`
 *    in one synced write. `entries` replace every stored entry from `entries[0].index` on;
 * 2. send `messages` (they may promise what step 1 stored, so never before it);
 * 3. apply the snapshot (if any), then `committedEntries` in order; serve `readStates`;
 * 4. call `advance(ready)`.
 * The core accepts no other input between `ready()` and `advance()`: the runtime queues it.
 * When `RaftCore.mayPersistLater(ready)` (a leader's own new entries), the runtime may instead start
 * the write, do steps 0 and 3, call `accept(ready)` and take input again; once the write is done it
 * sends `messages` and calls `persisted(ready)`, for such Readies in the order they were accepted.
 */
export interface Ready {
  /** Set when role or leader changed since the last Ready. */
  readonly softState: SoftState | null;
  /**
   * Set when term, vote or commit changed since the last Ready. When only `commit` changed, the
   * runtime may put off writing it (until its next write): Raft keeps the commit index volatile,
   * and a restarted server starts from its snapshot and relearns the rest from its leader.
   */
  readonly hardState: HardState | null;
  /** A snapshot received from the leader, to persist and restore before anything else. */
  readonly snapshot: SnapshotMeta | null;
  /** Entries to persist. */
  readonly entries: readonly Entry[];
  /** Committed entries to apply, contiguous, continuing from the last applied index. */
  readonly committedEntries: readonly Entry[];
  /**
   * A leader's appends and heartbeats: they promise nothing about this server's storage, so they
   * may go out before or while the write of step 1 runs, overlapping the leader's disk write with
   * its followers' (thesis §10.2.1). This is safe because the leader counts its own entries
   * towards commitment only once `advance` reports them persisted, and its term was persisted
   * when it stood for election.
   */
  readonly earlyMessages: readonly Message[];
  /** Messages to send once the state above is persisted. */
  readonly messages: readonly Message[];
  /** Reads that became servable (with the leader's commit index at the time they were asked). */
  readonly readStates: readonly ReadState[];
}
