import type { RaftLog } from './log.js';
import type { ResolvedCoreOptions } from './options.js';
import { Progress } from './progress.js';
import type { AppendResponse, HeartbeatResponse, MessageDraft, NodeId, SnapshotMeta } from './types.js';

/** What the leader's replication needs from the core. */
export interface ReplicationContext {
  readonly id: NodeId;
  readonly options: ResolvedCoreOptions;
  readonly log: RaftLog;
  readonly send: (m: MessageDraft) => void;
  /** Every server the leader replicates to (voters and non-voters), excluding itself. */
  readonly peers: () => readonly NodeId[];
  /** The index of the configuration in force, so a removed server is told up to its removal. */
  readonly configIndex: () => number;
  /** The latest snapshot, for followers that need entries the log no longer holds. */
  readonly snapshot: () => SnapshotMeta;
}

/**
 * The leader's side of log replication (Raft §5.3) with per-follower flow control. Sending is lazy:
 * proposals and commit changes mark the state dirty and {@link flush} sends once per Ready, so
 * many proposals between two Readies travel in one AppendEntries.
 */
export class Replication {
  private readonly progress = new Map<NodeId, Progress>();
  /**
   * Servers the configuration no longer lists, with the index of the configuration that removed
   * them. The leader keeps sending them the log until they hold that entry, so a server removed
   * while running learns of it and stops campaigning (thesis §4.2.3 only keeps it from disrupting
   * the group; hashicorp/raft also replicates up to the removal). Given up after two election
   * timeouts without that answer: a crashed or partitioned server must not be waited for.
   */
  private readonly departing = new Map<NodeId, { index: number; ticks: number; told: boolean }>();
  private dirty = true;

  constructor(private readonly ctx: ReplicationContext) {
    this.syncPeers();
  }

  /** The highest index known to match the leader on `id` (0 when unknown). */
  matchOf(id: NodeId): number {
    return this.progress.get(id)?.match ?? 0;
  }

  /** The follower's flow-control state, for status and tests. */
  progressOf(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  /** Reads and clears the "heard from recently" flag (check-quorum, thesis §6.2). */
  takeRecentActive(id: NodeId): boolean {
    const pr = this.progress.get(id);
    if (pr === undefined) return false;
    const active = pr.recentActive;
    pr.recentActive = false;
    return active;
  }

  /** New entries or a new commit index are waiting to be sent. */
  markDirty(): void {
    this.dirty = true;
  }

  /** Sends whatever flow control allows to every follower. */
  flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.syncPeers();
    for (const id of this.progress.keys()) this.sendAppends(id);
  }

  broadcastHeartbeat(commit: number, context: number): void {
    // The whole commit index, the same for every follower so that one multicast carries it: each
    // follower commits only as far as it knows its log matches ours (RaftCore.answerLeader).
    for (const to of this.progress.keys()) this.send({ type: 'heartbeatRequest', to, commit, context });
  }

  handleAppendResponse(m: AppendResponse): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (!m.success) {
      // Fast backtracking: skip every entry of a term the follower cannot hold.
      const next =
        m.hintTerm > 0 ? this.ctx.log.findConflictByTerm(m.hintIndex, m.hintTerm).index + 1 : m.hintIndex + 1;
      if (pr.maybeDecrease(m.index, next)) this.sendAppends(m.from);
      return;
    }
    // A probe answered at our current match also proves the follower is in step.
    if (pr.maybeUpdate(m.index) || (pr.state === 'probe' && pr.match === m.index)) {
      if (pr.state === 'probe') pr.becomeReplicate();
      else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) {
        pr.becomeProbe();
        pr.becomeReplicate();
      }
    }
    const departure = this.departing.get(m.from);
    if (departure !== undefined && pr.match >= departure.index && this.ctx.log.committed >= departure.index) {
      // Holding the removing entry is not enough: it takes effect for the server once it knows
      // the entry is committed. Answered after being sent that commit index, it knows.
      if (departure.told) {
        this.forget(m.from);
        return;
      }
      departure.told = true;
    }
    this.sendAppends(m.from);
  }

  handleHeartbeatResponse(m: HeartbeatResponse): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.probeSent = false;
    if (pr.state === 'replicate' && pr.isPaused()) pr.freeFirst();
    // An empty AppendEntries detects entries lost in flight: the follower rejects it if it lacks them.
    if (pr.match < this.ctx.log.lastIndex()) this.sendAppend(m.from, pr, true);
  }

  private syncPeers(): void {
    const peers = this.ctx.peers();
    for (const id of peers) {
      // A server added back after its removal starts afresh: what its earlier self acknowledged
      // proves nothing about the log it holds now (it may have lost it).
      if (this.departing.delete(id) || !this.progress.has(id)) {
        const pr = new Progress(this.ctx.log.lastIndex() + 1, this.ctx.options.maxInflight);
        // A new leader gives everyone one election timeout before check-quorum counts them out.
        pr.recentActive = true;
        this.progress.set(id, pr);
      }
    }
    for (const id of this.progress.keys()) {
      if (!peers.includes(id) && !this.departing.has(id))
        this.departing.set(id, { index: this.ctx.configIndex(), ticks: 0, told: false });
    }
  }

  private forget(id: NodeId): void {
    this.progress.delete(id);
    this.departing.delete(id);
  }

  /** Sends as many AppendEntries to `to` as its window allows, or one empty one to carry a new commit. */
  private sendAppends(to: NodeId): void {
    const pr = this.progress.get(to);
    if (pr === undefined) return;
    let sendIfEmpty = pr.sentCommit < this.ctx.log.committed;
    while (this.sendAppend(to, pr, sendIfEmpty)) sendIfEmpty = false;
  }

  /** Sends one AppendEntries; returns false when nothing was sent. */
  private sendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    const log = this.ctx.log;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) {
      // The entries the follower needs are compacted away: send the snapshot instead.
      const snapshot = this.ctx.snapshot();
      this.send({ type: 'snapshotRequest', to, snapshot });
      pr.becomeSnapshot(snapshot.index);
      return false;
    }
    const { maxEntriesPerMessage, maxBytesPerMessage } = this.ctx.options;
    const entries =
      pr.next <= log.lastIndex()
        ? log.slice(pr.next, log.lastIndex() + 1, maxEntriesPerMessage, maxBytesPerMessage)
        : [];
    if (entries.length === 0 && !sendIfEmpty) return false;
    const commit = log.committed;
    this.send({ type: 'appendRequest', to, prevIndex, prevTerm, entries, commit });
    pr.sentEntries(entries.length, prevIndex + entries.length);
    pr.sentCommit = commit;
    return entries.length > 0;
  }

  /** Retries snapshots that went unanswered for two election timeouts (lost, or the follower crashed). */
  tickSnapshots(): void {
    for (const pr of this.progress.values()) {
      if (pr.state === 'snapshot' && ++pr.snapshotTicks >= 2 * this.ctx.options.electionTicks) {
        pr.becomeProbe();
        this.markDirty();
      }
    }
  }

  /** Stops telling removed servers of their removal after two election timeouts. */
  tickDeparting(): void {
    for (const [id, departure] of this.departing) {
      if (++departure.ticks >= 2 * this.ctx.options.electionTicks) this.forget(id);
    }
  }

  /** The runtime failed to deliver a snapshot to `id`. */
  snapshotFailed(id: NodeId): void {
    const pr = this.progress.get(id);
    if (pr?.state !== 'snapshot') return;
    pr.becomeProbe();
    this.markDirty();
  }

  private send(m: MessageDraft): void {
    this.ctx.send(m);
  }
}
