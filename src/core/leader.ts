import type { RaftErrorCode } from '../errors.js';
import type { ConfigTracker } from './config-tracker.js';
import { encodeConfiguration, isVoter, votersOf } from './configuration.js';
import type { RaftLog } from './log.js';
import { type ConfChange, planConfChange, promote } from './membership.js';
import type { ResolvedCoreOptions } from './options.js';
import { hasQuorum, quorumMatchIndex } from './quorum.js';
import { type ConfirmedRead, ReadOnlyQueue } from './read-only.js';
import type { ReadState } from './ready.js';
import { Replication } from './replication.js';
import type {
  AppendResponse,
  Entry,
  EntryType,
  HeartbeatResponse,
  MessageDraft,
  NodeId,
  SnapshotMeta,
} from './types.js';

/** The answer to a proposal: where the entry will live if it commits, or why it was refused. */
export type ProposeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number }
  | {
      readonly accepted: false;
      readonly code: RaftErrorCode;
      readonly message: string;
      /** The leader this server knows of, for forwarding. */
      readonly leader: NodeId | null;
    };

/** What the leader needs from the core it runs in. */
export interface LeaderContext {
  readonly id: NodeId;
  readonly term: number;
  readonly options: ResolvedCoreOptions;
  readonly log: RaftLog;
  readonly config: ConfigTracker;
  readonly send: (m: MessageDraft) => void;
  readonly readState: (r: ReadState) => void;
  /** The snapshot to send to followers that are behind the log's first index. */
  readonly snapshot: () => SnapshotMeta;
  /** Steps down to follower (check-quorum failure, or removal from the configuration). */
  readonly stepDown: () => void;
  /** Raft §5.4.2: whether counting replicas may commit the entry at `index`. */
  readonly canCommitAt: (index: number) => boolean;
}

/**
 * Everything only a leader does: accepting proposals and membership changes, committing by
 * quorum, promoting caught-up servers, leadership transfer and ReadIndex. It lives for exactly
 * one term; stepping down discards it.
 */
export class Leader {
  readonly replication: Replication;
  private readonly reads = new ReadOnlyQueue();
  /** Reads received before this leader committed an entry of its own term (thesis §6.4 step 1). */
  private readsBeforeCommit: Array<{ requestId: number; requester: NodeId }> = [];
  private transferee: NodeId | null = null;
  /** False once this leader stepped down; a retired leader must not touch the log again. */
  private active = true;
  private transferElapsed = 0;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;

  constructor(private readonly ctx: LeaderContext) {
    this.replication = new Replication({
      id: ctx.id,
      options: ctx.options,
      log: ctx.log,
      send: (m) => ctx.send(m),
      snapshot: ctx.snapshot,
      peers: () => ctx.config.config.servers.map((s) => s.id).filter((id) => id !== ctx.id),
      configIndex: () => ctx.config.index,
    });
    // Raft §8: a new leader commits an entry of its own term at once, which also commits
    // everything before it and tells the leader what is committed.
    this.append('noop', new Uint8Array());
  }

  /** The server a leadership transfer is handing over to, if any. */
  get transferTarget(): NodeId | null {
    return this.transferee;
  }

  propose(data: Uint8Array, type: EntryType): ProposeResult {
    if (this.transferee !== null) {
      return this.refuse('TRANSFER_IN_PROGRESS', `leadership is being transferred to ${this.transferee}`);
    }
    return this.append(type, data);
  }

  /** Proposes one membership change (thesis §4.1: one at a time, each effective once appended). */
  proposeConfChange(change: ConfChange): ProposeResult {
    const ctx = this.ctx;
    if (this.transferee !== null) {
      return this.refuse('TRANSFER_IN_PROGRESS', `leadership is being transferred to ${this.transferee}`);
    }
    const pending = this.configChangeBlocker();
    if (pending !== null) return this.refuse('CONFIG_CHANGE_IN_PROGRESS', pending);
    if (change.prevIndex !== undefined && change.prevIndex !== ctx.config.index) {
      return this.refuse(
        'CONFIGURATION_CHANGED',
        `configuration changed since ${change.prevIndex} (latest is ${ctx.config.index})`,
      );
    }
    let next: ReturnType<typeof planConfChange>;
    try {
      next = planConfChange(ctx.config.config, change);
    } catch (err) {
      return this.refuse('INVALID_INPUT', (err as Error).message);
    }
    return this.append('config', encodeConfiguration(next ?? ctx.config.config));
  }

  /**
   * Starts handing leadership to `target` (or the most up-to-date voter): proposals stop, the
   * target is brought up to date, then told to campaign at once (thesis §3.10).
   */
  transferLeadership(target: NodeId | undefined): ProposeResult {
    const ctx = this.ctx;
    if (this.transferee !== null) {
      return this.refuse(
        'TRANSFER_IN_PROGRESS',
        `leadership is already being transferred to ${this.transferee}`,
      );
    }
    const voters = votersOf(ctx.config.config).filter((id) => id !== ctx.id);
    const to = target ?? voters.sort((a, b) => this.replication.matchOf(b) - this.replication.matchOf(a))[0];
    if (to === undefined)
      return this.refuse('INVALID_INPUT', 'there is no other voter to transfer leadership to');
    if (to === ctx.id) return this.refuse('INVALID_INPUT', `${to} is already the leader`);
    if (!isVoter(ctx.config.config, to)) return this.refuse('INVALID_INPUT', `${to} is not a voter`);
    this.transferee = to;
    this.transferElapsed = 0;
    this.maybeSendTimeoutNow();
    this.replication.markDirty();
    return { accepted: true, index: ctx.log.lastIndex(), term: ctx.term };
  }

  /** Starts a ReadIndex read for `requester` (this server or a follower). */
  readIndex(requestId: number, requester: NodeId): void {
    const ctx = this.ctx;
    if (!this.committedInTerm()) {
      this.readsBeforeCommit.push({ requestId, requester });
      return;
    }
    const voters = votersOf(ctx.config.config);
    if (voters.length === 1 && voters[0] === ctx.id) {
      this.answerRead({ requestId, requester, index: ctx.log.committed }, true);
      return;
    }
    const round = this.reads.add(requestId, requester, ctx.log.committed, ctx.id);
    this.replication.broadcastHeartbeat(ctx.log.committed, round);
  }

  /** Fails every pending read: this server no longer leads, so it cannot vouch for them. */
  abandonReads(): void {
    for (const read of this.reads.drain()) this.answerRead(read, false);
    for (const { requestId, requester } of this.readsBeforeCommit) {
      this.answerRead({ requestId, requester, index: 0 }, false);
    }
    this.readsBeforeCommit = [];
  }

  /** Advances leader time; returns false when the leader stepped down. */
  tick(): boolean {
    const ctx = this.ctx;
    this.electionElapsed++;
    this.heartbeatElapsed++;
    if (this.transferee !== null && ++this.transferElapsed >= ctx.options.electionTicks) {
      // The target did not take over within an election timeout: resume normal service.
      this.transferee = null;
    }
    if (this.electionElapsed >= ctx.options.leaderLeaseTicks) {
      this.electionElapsed = 0;
      if (ctx.options.checkQuorum && !this.quorumActive()) {
        // Thesis §6.2: a leader that cannot reach a quorum steps down, so clients look elsewhere.
        this.retire();
        return false;
      }
    }
    this.replication.tickSnapshots();
    this.replication.tickDeparting();
    if (this.heartbeatElapsed >= ctx.options.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      // Carrying the newest pending read round lets any later heartbeat confirm reads whose own
      // round was lost, instead of leaving them waiting for the next read.
      this.replication.broadcastHeartbeat(ctx.log.committed, this.reads.lastRound());
    }
    this.maybePromote();
    return true;
  }

  handleAppendResponse(m: AppendResponse): void {
    this.replication.handleAppendResponse(m);
    this.maybeCommit();
    if (!this.active) return;
    if (m.from === this.transferee) this.maybeSendTimeoutNow();
    this.maybePromote();
  }

  handleHeartbeatResponse(m: HeartbeatResponse): void {
    this.replication.handleHeartbeatResponse(m);
    if (m.context === 0) return;
    const voters = votersOf(this.ctx.config.config);
    const confirmed = this.reads.ack(m.context, m.from, (acks) => hasQuorum(voters, (id) => acks.has(id)));
    for (const read of confirmed) this.answerRead(read, true);
  }

  /** The runtime could not deliver a snapshot to `id`: retry from probing. */
  snapshotFailed(id: NodeId): void {
    this.replication.snapshotFailed(id);
  }

  /** Commits what a quorum of voters has persisted, counting our own entries only once persisted. */
  maybeCommit(): void {
    const ctx = this.ctx;
    if (!this.active) return;
    // Capped at our own persisted index: with writes in flight (RaftCore.accept) the followers
    // alone may form a quorum, but the leader applies, and answers, only what it holds on disk
    // itself, so that every committed entry a server reports is also in its own stable log.
    const index = Math.min(
      ctx.log.persisted,
      quorumMatchIndex(votersOf(ctx.config.config), (id) =>
        id === ctx.id ? ctx.log.persisted : this.replication.matchOf(id),
      ),
    );
    if (index <= ctx.log.committed || !ctx.canCommitAt(index)) return;
    ctx.log.commitTo(index);
    this.replication.markDirty();
    if (this.readsBeforeCommit.length > 0 && this.committedInTerm()) {
      const waiting = this.readsBeforeCommit;
      this.readsBeforeCommit = [];
      for (const { requestId, requester } of waiting) this.readIndex(requestId, requester);
    }
    // Thesis §4.2.2: a leader removed (or demoted) by a committed change steps down, handing over
    // to the most up-to-date voter so the group does not wait for an election timeout.
    if (ctx.log.committed >= ctx.config.index && !isVoter(ctx.config.config, ctx.id)) {
      const heir = votersOf(ctx.config.config).sort(
        (a, b) => this.replication.matchOf(b) - this.replication.matchOf(a),
      )[0];
      if (heir !== undefined && this.replication.matchOf(heir) === ctx.log.lastIndex()) {
        ctx.send({ type: 'timeoutNow', to: heir });
      }
      this.retire();
    }
  }

  private retire(): void {
    this.active = false;
    this.ctx.stepDown();
  }

  private append(type: EntryType, data: Uint8Array): ProposeResult {
    const ctx = this.ctx;
    const entry: Entry = { index: ctx.log.lastIndex() + 1, term: ctx.term, type, data };
    ctx.log.append(entry);
    ctx.config.appended(entry);
    this.replication.markDirty();
    return { accepted: true, index: entry.index, term: entry.term };
  }

  /** Why a membership change cannot start now, or null when it can. */
  private configChangeBlocker(): string | null {
    const ctx = this.ctx;
    if (ctx.config.index > ctx.log.committed)
      return `configuration change at ${ctx.config.index} is not committed yet`;
    // The single-server change rule needs the leader to have committed an entry of its own term
    // first, or an earlier leader's uncommitted change could still take effect (Ongaro, raft-dev 2015).
    if (!this.committedInTerm()) return 'the leader has not yet committed an entry of its term';
    return null;
  }

  private committedInTerm(): boolean {
    return this.ctx.log.term(this.ctx.log.committed) === this.ctx.term;
  }

  private quorumActive(): boolean {
    const ctx = this.ctx;
    return hasQuorum(
      votersOf(ctx.config.config),
      (id) => id === ctx.id || this.replication.takeRecentActive(id),
    );
  }

  /** Promotes a staging server to voter once its log is within `maxPromotionLag` of ours. */
  private maybePromote(): void {
    const ctx = this.ctx;
    if (this.transferee !== null || this.configChangeBlocker() !== null) return;
    const staging = ctx.config.config.servers.find(
      (s) =>
        s.suffrage === 'staging' &&
        ctx.log.lastIndex() - this.replication.matchOf(s.id) <= ctx.options.maxPromotionLag &&
        this.replication.matchOf(s.id) > 0,
    );
    if (staging === undefined) return;
    this.append('config', encodeConfiguration(promote(ctx.config.config, staging.id)));
  }

  private maybeSendTimeoutNow(): void {
    const to = this.transferee;
    if (to !== null && this.replication.matchOf(to) === this.ctx.log.lastIndex()) {
      this.ctx.send({ type: 'timeoutNow', to });
    }
  }

  private answerRead(read: ConfirmedRead, ok: boolean): void {
    if (read.requester === this.ctx.id) {
      this.ctx.readState({ requestId: read.requestId, index: read.index, ok });
    } else {
      this.ctx.send({
        type: 'readIndexResponse',
        to: read.requester,
        requestId: read.requestId,
        ok,
        index: read.index,
      });
    }
  }

  private refuse(code: RaftErrorCode, message: string): ProposeResult {
    return { accepted: false, code, message, leader: this.ctx.id };
  }
}
