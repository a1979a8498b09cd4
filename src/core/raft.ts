import { AckPacer } from './ack-pacer.js';
import { ConfigTracker } from './config-tracker.js';
import { isVoter, suffrageOf, votersOf } from './configuration.js';
import { handleAppend, handleSnapshot } from './follower.js';
import { ForwardedReads } from './forwarded-reads.js';
import { Handover } from './handover.js';
import { Leader, type ProposeResult } from './leader.js';
import { RaftLog } from './log.js';
import type { ConfChange } from './membership.js';
import { type CoreOptions, type ResolvedCoreOptions, resolveCoreOptions } from './options.js';
import {
  currentTermProblem,
  messageProblem,
  type PeerDropReason,
  type ReceiverView,
  type SnapshotVerdict,
  snapshotVerdict,
} from './peer-rules.js';
import { tallyVotes } from './quorum.js';
import type { ReadState, Ready } from './ready.js';
import { type CoreStatus, describeCore } from './status.js';
import { grantsVote, higherTermEffect, isFromLeader, staleTermAnswer } from './term-rules.js';
import type {
  Configuration,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageDraft,
  NodeId,
  Role,
  SnapshotMeta,
  SnapshotRequest,
  VoteRequest,
  VoteResponse,
} from './types.js';

export type { CoreStatus } from './status.js';

/** What a server starts from: everything its stable storage holds. */
export interface CoreInitialState {
  readonly hardState: HardState;
  /** The latest snapshot; index 0 with the bootstrap configuration for a fresh log. */
  readonly snapshot: SnapshotMeta;
  /** Persisted entries, in order; those the snapshot covers are ignored. */
  readonly entries: readonly Entry[];
  /**
   * The index of a committed configuration that removed this server, when the server knows of it
   * only from the leader's answer (it asked to leave), not from its log: the leader stops sending
   * to a removed server, so its log may end before that entry and still list it as a voter. Until
   * its log holds a configuration at or after this index, the server does not campaign. 0: none.
   */
  readonly removedAt?: number;
}

/**
 * The pure Raft state machine. Input arrives through {@link step} (messages), {@link tick} (time)
 * and the proposal methods; output leaves through {@link ready}. It performs no I/O and reads no
 * clock, so a whole cluster of them can run deterministically in one process.
 */
export class RaftCore {
  readonly id: NodeId;
  protected readonly options: ResolvedCoreOptions;
  protected readonly log: RaftLog;
  private readonly config: ConfigTracker;
  private snapshot: SnapshotMeta;
  private termValue: number;
  private voteValue: NodeId | null;
  private roleValue: Role = 'follower';
  private leaderValue: NodeId | null = null;
  /** Ticks since a valid message from the leader, or since the election began. */
  private electionElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly votes = new Map<NodeId, boolean>();
  private leaderState: Leader | null = null;
  /** Reads forwarded to the leader, waiting for its answer. */
  private readonly forwardedReads = new ForwardedReads();
  private outbox: Message[] = [];
  private readStates: ReadState[] = [];
  private installedSnapshot: SnapshotMeta | null = null;
  private readonly handover: Handover;
  private readonly removedAt: number;
  /**
   * The end of the last append or snapshot this follower accepted from its current leader in the
   * current term: its log matches the leader's up to there (Log Matching, Raft §5.3; a leader never
   * rewrites its log within its term), so a heartbeat's commit index may be applied up to it.
   */
  private matchedLeader = 0;
  private readonly acks: AckPacer;
  private readonly drops: Partial<Record<PeerDropReason, number>> = {};

  constructor(options: CoreOptions, initial: CoreInitialState) {
    this.options = resolveCoreOptions(options);
    this.id = this.options.id;
    const { hardState, snapshot } = initial;
    this.termValue = hardState.term;
    this.voteValue = hardState.vote;
    this.snapshot = snapshot;
    const entries = initial.entries.filter((e) => e.index > snapshot.index);
    this.log = new RaftLog(snapshot.index, snapshot.term, entries, hardState);
    this.config = new ConfigTracker(snapshot);
    this.config.refresh(this.log);
    this.handover = new Handover(hardState);
    this.removedAt = initial.removedAt ?? 0;
    this.acks = new AckPacer(
      this.options.nonvoterAckTicks,
      Math.max(1, Math.floor(this.options.maxInflight / 4)),
    );
    this.resetElectionTimer();
  }

  get role(): Role {
    return this.roleValue;
  }

  get term(): number {
    return this.termValue;
  }

  get leader(): NodeId | null {
    return this.leaderValue;
  }

  /** The latest configuration in the log, in effect from the moment it was appended (thesis §4.1). */
  get configuration(): Configuration {
    return this.config.config;
  }

  /** The index of {@link configuration} in the log (0: the initial one). */
  get configurationIndex(): number {
    return this.config.index;
  }

  /** The target of a leadership transfer in progress, or null. */
  get transferTarget(): NodeId | null {
    return this.leaderState?.transferTarget ?? null;
  }

  status(): CoreStatus {
    const { id, roleValue: role, termValue: term, voteValue: vote, leaderValue: leader } = this;
    return describeCore(
      this.log,
      this.config,
      { id, role, term, vote, leader },
      {
        snapshotIndex: this.snapshot.index,
        transferTarget: this.transferTarget,
        droppedMessages: { ...this.drops },
      },
    );
  }

  /**
   * On the leader, the highest index known to match its log on server `id` (Raft Figure 2's
   * matchIndex; 0 when not known yet); null on other roles, which do not track followers.
   */
  matchIndexOf(id: NodeId): number | null {
    return this.leaderState === null ? null : this.leaderState.replication.matchOf(id);
  }

  /** Advances logical time by one tick: election timeouts, heartbeats and quorum checks. */
  tick(): void {
    this.handover.assertNotOutstanding();
    if (this.leaderState !== null) {
      this.leaderState.tick();
      return;
    }
    for (const m of this.acks.tick()) this.send(m);
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.promotable()) this.campaign();
  }

  /** Starts an election now, as if the election timeout had fired. No effect for non-voters and leaders. */
  campaign(): void {
    this.handover.assertNotOutstanding();
    if (this.roleValue === 'leader' || !this.promotable()) return;
    if (this.options.preVote) this.becomePreCandidate();
    else this.becomeCandidate(false);
  }

  /** Proposes a new entry. Only a leader accepts; others name the leader they know. */
  propose(data: Uint8Array, type: Exclude<EntryType, 'config'> = 'command'): ProposeResult {
    this.handover.assertNotOutstanding();
    return this.leaderState?.propose(data, type) ?? this.notLeader();
  }

  /** Proposes a membership change (see {@link ConfChange}). */
  proposeConfChange(change: ConfChange): ProposeResult {
    this.handover.assertNotOutstanding();
    return this.leaderState?.proposeConfChange(change) ?? this.notLeader();
  }

  /** Hands leadership to `target`, or to the most up-to-date voter when omitted (thesis §3.10). */
  transferLeadership(target?: NodeId): ProposeResult {
    this.handover.assertNotOutstanding();
    return this.leaderState?.transferLeadership(target) ?? this.notLeader();
  }

  /**
   * Asks for a linearizable read (ReadIndex, thesis §6.4). The outcome arrives as a
   * {@link ReadState} with this `requestId` in a later Ready; followers ask the leader.
   */
  readIndex(requestId: number): void {
    this.handover.assertNotOutstanding();
    if (this.leaderState !== null) {
      this.leaderState.readIndex(requestId, this.id);
    } else if (this.leaderValue !== null) {
      this.forwardedReads.add(requestId);
      this.send({ type: 'readIndexRequest', to: this.leaderValue, requestId });
    } else {
      this.readStates.push({ requestId, index: 0, ok: false });
    }
  }

  /**
   * Describes a snapshot of the state at applied `index`: its term and the configuration in force
   * there. The runtime writes the snapshot under this description, then calls {@link snapshotTaken}.
   */
  snapshotMetaAt(index: number): SnapshotMeta {
    const log = this.log;
    if (index === this.snapshot.index) return this.snapshot;
    if (index > log.applied || index < log.snapshotIndex) {
      throw new Error(`snapshot index ${index} outside [${log.snapshotIndex}, applied ${log.applied}]`);
    }
    const { config, index: configIndex } = this.config.at(log, index);
    return { index, term: log.term(index) as number, config, configIndex };
  }

  /**
   * The application saved a snapshot of its state at `index` (which it has applied). The core
   * compacts its log, keeping `trailingEntries`; the runtime may then delete entries up to the
   * returned `compactedTo` once the snapshot is durable.
   */
  snapshotTaken(index: number): { snapshot: SnapshotMeta; compactedTo: number } {
    this.handover.assertNotOutstanding();
    const log = this.log;
    if (index > log.applied || index < log.snapshotIndex) {
      throw new Error(`snapshot index ${index} outside [${log.snapshotIndex}, applied ${log.applied}]`);
    }
    if (index > this.snapshot.index) this.snapshot = this.snapshotMetaAt(index);
    const compactTo = Math.max(log.snapshotIndex, index - this.options.trailingEntries);
    this.config.compacted(log, compactTo);
    log.compact(compactTo);
    return { snapshot: this.snapshot, compactedTo: compactTo };
  }

  /** The runtime could not deliver a snapshot to `id`; the leader retries it. */
  reportSnapshotFailure(id: NodeId): void {
    this.leaderState?.snapshotFailed(id);
  }

  /**
   * Feeds one message from a peer into the state machine. A message that breaks a Raft rule is
   * dropped and counted in `status().droppedMessages`; nothing a peer sends makes this throw.
   */
  step(m: Message): void {
    this.handover.assertNotOutstanding();
    if (m.to !== this.id || m.from === this.id || this.dropped(messageProblem(m))) return;
    if (m.term > this.termValue) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.termValue) {
      const answer = staleTermAnswer(m);
      if (answer !== null) this.send(answer);
      return;
    }
    if (this.dropped(currentTermProblem(m, this.receiverView()))) return;
    switch (m.type) {
      case 'voteRequest':
        this.handleVoteRequest(m);
        return;
      case 'voteResponse':
        this.handleVoteResponse(m);
        return;
      case 'appendRequest':
      case 'heartbeatRequest':
      case 'snapshotRequest':
        this.handleLeaderMessage(m);
        return;
      case 'appendResponse':
        this.leaderState?.handleAppendResponse(m);
        return;
      case 'heartbeatResponse':
        this.leaderState?.handleHeartbeatResponse(m);
        return;
      case 'timeoutNow':
        // Thesis §3.10: the leader chose us; campaign now, without pre-vote, past voters' leases.
        if (this.promotable()) this.becomeCandidate(true);
        return;
      case 'readIndexRequest':
        if (this.leaderState !== null) this.leaderState.readIndex(m.requestId, m.from);
        else
          this.send({ type: 'readIndexResponse', to: m.from, requestId: m.requestId, ok: false, index: 0 });
        return;
      case 'readIndexResponse': {
        const state = this.forwardedReads.answered(m);
        if (state !== null) this.readStates.push(state);
        return;
      }
    }
  }

  /** Whether the data of `m` should be stored before it is stepped (design §7: judged before a byte is written). */
  snapshotVerdict(m: SnapshotRequest): SnapshotVerdict {
    return snapshotVerdict(m, this.receiverView(), this.log.committed, (i) => this.log.term(i));
  }

  /** The snapshot the next Ready will ask the runtime to install, if a step accepted one. */
  get pendingSnapshot(): SnapshotMeta | null {
    return this.installedSnapshot;
  }

  private receiverView(): ReceiverView {
    const { id, termValue: term, roleValue: role, leaderValue: leader, config } = this;
    return { id, term, role, leader, lastIndex: this.log.lastIndex(), config: config.config };
  }

  /** Counts a dropped message; false when there is no reason to drop it. */
  private dropped(reason: PeerDropReason | null): boolean {
    if (reason !== null) this.drops[reason] = (this.drops[reason] ?? 0) + 1;
    return reason !== null;
  }

  /** True when {@link ready} has something for the runtime to do. */
  hasReady(): boolean {
    if (this.handover.outstanding) return false;
    this.leaderState?.replication.flush();
    return (
      this.outbox.length > 0 ||
      this.readStates.length > 0 ||
      this.installedSnapshot !== null ||
      this.log.unpersisted().length > 0 ||
      this.log.applied < this.log.committed ||
      this.handover.softChanged(this.roleValue, this.leaderValue) ||
      this.handover.hardChanged(this.termValue, this.voteValue, this.log.committed)
    );
  }

  /** Collects the work for the runtime (see {@link Ready} for the order it must be done in). */
  ready(): Ready {
    this.handover.assertNotOutstanding();
    this.leaderState?.replication.flush();
    const ready: Ready = {
      softState: this.handover.softChanged(this.roleValue, this.leaderValue)
        ? { role: this.roleValue, leader: this.leaderValue }
        : null,
      hardState: this.handover.hardChanged(this.termValue, this.voteValue, this.log.committed)
        ? { term: this.termValue, vote: this.voteValue, commit: this.log.committed }
        : null,
      snapshot: this.installedSnapshot,
      entries: this.log.unpersisted(),
      committedEntries: this.log.toApply(this.options.maxApplyPerReady),
      earlyMessages: this.outbox.filter((m) => this.handover.mayGoBeforePersist(m)),
      messages: this.outbox.filter((m) => !this.handover.mayGoBeforePersist(m)),
      readStates: this.readStates,
    };
    this.outbox = [];
    this.readStates = [];
    this.installedSnapshot = null;
    this.handover.handOut(ready);
    return ready;
  }

  /** Tells the core that everything in `ready` has been done. */
  advance(ready: Ready): void {
    this.take(ready);
    this.persisted(ready);
  }

  /**
   * Whether the runtime may let `ready`'s write finish later: call {@link accept} now (after
   * sending the early messages and applying), and {@link persisted} once the write is done. Only a
   * leader's Readies qualify, and only those that change no term, vote or snapshot: what they
   * write are the leader's own new entries, which count towards commitment only once persisted.
   * Meanwhile the leader goes on taking proposals and its followers' answers (etcd's asynchronous
   * storage writes, in the one case where nothing sent depends on the write).
   */
  mayPersistLater(ready: Ready): boolean {
    return (
      this.roleValue === 'leader' && ready.snapshot === null && this.handover.keepsPersistedTermAndVote(ready)
    );
  }

  /**
   * Whether `ready`'s write may wait for the next Ready whose write may not: true only for a
   * non-voter's Ready that sends nothing. A non-voter's log counts towards no commitment and no
   * election (thesis §4.2.1), and a write nobody was told about may be lost in a crash just as the
   * messages that brought it could have been lost on the way. The next Ready that sends anything
   * is written, with everything deferred before it, before it sends, so the leader's match index
   * for a non-voter never runs ahead of that non-voter's disk.
   */
  mayDeferWrite(ready: Ready): boolean {
    return (
      ready.snapshot === null &&
      ready.messages.length === 0 &&
      ready.earlyMessages.length === 0 &&
      suffrageOf(this.config.config, this.id) === 'nonvoter'
    );
  }

  /**
   * The runtime has done everything in `ready` but the write, which it will report with
   * {@link persisted}, in order. The core takes input again. Only for Readies that
   * {@link mayPersistLater}.
   */
  accept(ready: Ready): void {
    if (!this.mayPersistLater(ready))
      throw new Error('accept() called with a Ready that must be persisted first');
    this.take(ready);
  }

  private take(ready: Ready): void {
    this.handover.handBack(ready);
    if (ready.snapshot !== null && ready.snapshot.index > this.snapshot.index) this.snapshot = ready.snapshot;
    const lastEntry = ready.entries.at(-1);
    if (lastEntry !== undefined) this.log.handedOutTo(lastEntry.index);
    const lastApplied = ready.committedEntries.at(-1);
    if (lastApplied !== undefined) this.log.applied = Math.max(this.log.applied, lastApplied.index);
  }

  /** The write of an accepted Ready is done (report them in the order they were accepted). */
  persisted(ready: Ready): void {
    this.handover.assertNotOutstanding();
    this.handover.persisted(ready);
    const lastEntry = ready.entries.at(-1);
    if (lastEntry !== undefined) this.log.persistedTo(lastEntry.index, lastEntry.term);
    // The leader's own entries count towards commitment only once persisted.
    this.leaderState?.maybeCommit();
  }

  /**
   * Raft §5.4.2: a leader only commits entries of its own term by counting replicas; earlier
   * entries commit indirectly with them. Subclasses in tests break this rule on purpose to prove
   * the simulation notices.
   */
  protected canCommitAt(index: number): boolean {
    return this.log.term(index) === this.termValue;
  }

  // --- terms -----------------------------------------------------------------------------------

  /** Returns false when the message must be dropped. */
  private acceptHigherTerm(m: Message): boolean {
    const effect = higherTermEffect(m, this.inLeaderLease());
    if (effect === 'adoptTerm') this.becomeFollower(m.term, isFromLeader(m) ? m.from : null);
    return effect !== 'drop';
  }

  private inLeaderLease(): boolean {
    if (!this.options.checkQuorum || this.leaderValue === null) return false;
    return this.roleValue === 'leader' || this.electionElapsed < this.options.electionTicks;
  }

  // --- elections (Raft §5.2) -------------------------------------------------------------------

  private handleVoteRequest(m: VoteRequest): void {
    const state = { term: this.termValue, vote: this.voteValue, leader: this.leaderValue };
    const granted = grantsVote(m, state, this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm));
    if (granted && !m.preVote) {
      this.voteValue = m.from;
      this.electionElapsed = 0;
    }
    // A granted pre-vote answers in the proposed term so the pre-candidate can count it.
    this.send(
      { type: 'voteResponse', to: m.from, preVote: m.preVote, granted },
      granted ? m.term : undefined,
    );
  }

  private handleVoteResponse(m: VoteResponse): void {
    const expected = this.roleValue === 'preCandidate' ? true : this.roleValue === 'candidate' ? false : null;
    if (expected === null || m.preVote !== expected) return;
    this.votes.set(m.from, m.granted);
    const outcome = tallyVotes(votersOf(this.config.config), this.votes);
    if (outcome === 'won') {
      if (this.roleValue === 'preCandidate') this.becomeCandidate(false);
      else this.becomeLeader();
    } else if (outcome === 'lost') {
      this.becomeFollower(this.termValue, null);
    }
  }

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (term > this.termValue || leader !== this.leaderValue) {
      this.matchedLeader = 0;
      this.acks.clear();
    }
    if (term > this.termValue) {
      this.termValue = term;
      this.voteValue = null;
    }
    this.leaderState?.abandonReads();
    this.leaderState = null;
    if (leader !== this.leaderValue) this.failForwardedReads();
    this.roleValue = 'follower';
    this.leaderValue = leader;
    this.votes.clear();
    this.electionElapsed = 0;
    this.resetElectionTimer();
  }

  private becomePreCandidate(): void {
    this.failForwardedReads();
    this.roleValue = 'preCandidate';
    this.leaderValue = null;
    this.electionElapsed = 0;
    this.resetElectionTimer();
    this.requestVotes(true, false);
  }

  private becomeCandidate(transfer: boolean): void {
    this.failForwardedReads();
    this.termValue++;
    this.voteValue = this.id;
    this.roleValue = 'candidate';
    this.leaderValue = null;
    this.electionElapsed = 0;
    this.resetElectionTimer();
    this.requestVotes(false, transfer);
  }

  private requestVotes(preVote: boolean, transfer: boolean): void {
    this.votes.clear();
    this.votes.set(this.id, true);
    const voters = votersOf(this.config.config);
    const term = preVote ? this.termValue + 1 : this.termValue;
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const to of voters) {
      if (to !== this.id)
        this.send({ type: 'voteRequest', to, preVote, lastLogIndex, lastLogTerm, transfer }, term);
    }
    // A single voter wins at once.
    if (tallyVotes(voters, this.votes) === 'won') {
      if (preVote) this.becomeCandidate(false);
      else this.becomeLeader();
    }
  }

  private becomeLeader(): void {
    this.roleValue = 'leader';
    this.leaderValue = this.id;
    this.votes.clear();
    this.leaderState = new Leader({
      id: this.id,
      term: this.termValue,
      options: this.options,
      log: this.log,
      config: this.config,
      send: (m) => this.send(m),
      readState: (r) => this.readStates.push(r),
      snapshot: () => this.snapshot,
      stepDown: () => this.becomeFollower(this.termValue, null),
      canCommitAt: (index) => this.canCommitAt(index),
    });
  }

  /** Only a voter campaigns, and only on a configuration not known to be older than its removal. */
  private promotable(): boolean {
    return this.config.index >= this.removedAt && isVoter(this.config.config, this.id);
  }

  private resetElectionTimer(): void {
    const base = this.options.electionTicks;
    this.randomizedElectionTimeout = base + this.options.random.int(base);
  }

  // --- followers ------------------------------------------------------------------------------

  private handleLeaderMessage(
    m: Message & { type: 'appendRequest' | 'heartbeatRequest' | 'snapshotRequest' },
  ): void {
    if (this.roleValue !== 'follower' || this.leaderValue !== m.from) this.becomeFollower(m.term, m.from);
    this.electionElapsed = 0;
    if (m.type === 'heartbeatRequest') {
      this.log.commitTo(Math.min(m.commit, this.matchedLeader, this.log.lastIndex()));
      this.answerLeader({ type: 'heartbeatResponse', to: m.from, context: m.context });
    } else if (m.type === 'appendRequest') {
      this.answerLeader(handleAppend(this.log, this.config, m));
    } else {
      const { response, installed } = handleSnapshot(this.log, this.config, m);
      if (installed !== null) this.installedSnapshot = installed;
      this.answerLeader(response, { snapshot: true });
    }
  }

  /** Sends an answer to the leader; a non-voter's answers are paced (see {@link AckPacer}). */
  private answerLeader(m: MessageDraft, { snapshot = false } = {}): void {
    if (m.type === 'appendResponse' && m.success) this.matchedLeader = Math.max(this.matchedLeader, m.index);
    if (suffrageOf(this.config.config, this.id) !== 'nonvoter') {
      this.send(m);
      return;
    }
    const now =
      m.type === 'heartbeatResponse'
        ? this.acks.heartbeatAnswer(m)
        : m.type === 'appendResponse' && m.success && !snapshot
          ? this.acks.appendAnswer(m)
          : this.acks.now(m);
    for (const answer of now) this.send(answer);
  }

  private failForwardedReads(): void {
    this.readStates.push(...this.forwardedReads.failAll());
  }

  // --- output ---------------------------------------------------------------------------------

  private notLeader(): ProposeResult {
    const leader = this.leaderValue;
    return {
      accepted: false,
      code: 'NOT_LEADER',
      message: leader === null ? 'no leader is known' : `the leader is ${leader}`,
      leader,
    };
  }

  private send(m: MessageDraft, term = this.termValue): void {
    this.outbox.push({ ...m, from: this.id, term } as Message);
  }
}
