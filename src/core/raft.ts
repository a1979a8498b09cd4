import { decodeConfiguration, isVoter, votersOf } from './configuration.js';
import { RaftLog } from './log.js';
import { type CoreOptions, type ResolvedCoreOptions, resolveCoreOptions } from './options.js';
import { hasQuorum, quorumMatchIndex, tallyVotes } from './quorum.js';
import type { Ready, SoftState } from './ready.js';
import { Replication } from './replication.js';
import type {
  AppendRequest,
  Configuration,
  Entry,
  EntryType,
  HardState,
  HeartbeatRequest,
  Message,
  MessageDraft,
  NodeId,
  Role,
  SnapshotMeta,
  VoteRequest,
  VoteResponse,
} from './types.js';

/** What a server starts from: everything its stable storage holds. */
export interface CoreInitialState {
  readonly hardState: HardState;
  /** The snapshot the log starts after; index 0 with the bootstrap configuration for a fresh log. */
  readonly snapshot: SnapshotMeta;
  /** Every persisted entry after the snapshot, in order. */
  readonly entries: readonly Entry[];
}

/** The answer to a proposal: where the entry will live if it commits, or why it was refused. */
export type ProposeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number }
  | { readonly accepted: false; readonly code: 'NOT_LEADER'; readonly leader: NodeId | null };

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
}

/**
 * The pure Raft state machine. Input arrives through {@link step} (messages), {@link tick} (time)
 * and {@link propose}; output leaves through {@link ready}. It performs no I/O and reads no clock,
 * so a whole cluster of them can run deterministically in one process.
 */
export class RaftCore {
  readonly id: NodeId;
  protected readonly options: ResolvedCoreOptions;
  protected readonly log: RaftLog;
  private termValue: number;
  private voteValue: NodeId | null;
  private roleValue: Role = 'follower';
  private leaderValue: NodeId | null = null;
  private config: Configuration;
  private configIndex: number;
  /** The configuration carried by the snapshot the log starts after, for when no config entry follows. */
  private snapshotConfig: { config: Configuration; index: number };
  /** Ticks since the last valid message from a leader (followers) or since the last quorum check (leaders). */
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly votes = new Map<NodeId, boolean>();
  private replication: Replication | null = null;
  private outbox: Message[] = [];
  private lastSoft: SoftState;
  private lastHard: HardState;
  private pendingReady: Ready | null = null;

  constructor(options: CoreOptions, initial: CoreInitialState) {
    this.options = resolveCoreOptions(options);
    this.id = this.options.id;
    const { hardState, snapshot, entries } = initial;
    this.termValue = hardState.term;
    this.voteValue = hardState.vote;
    this.log = new RaftLog(snapshot.index, snapshot.term, entries, hardState);
    this.snapshotConfig = { config: snapshot.config, index: snapshot.configIndex };
    this.config = snapshot.config;
    this.configIndex = snapshot.configIndex;
    this.refreshConfiguration();
    this.lastHard = hardState;
    this.lastSoft = { role: 'follower', leader: null };
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
    return this.config;
  }

  status(): CoreStatus {
    return {
      id: this.id,
      role: this.roleValue,
      term: this.termValue,
      vote: this.voteValue,
      leader: this.leaderValue,
      commitIndex: this.log.committed,
      appliedIndex: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      lastTerm: this.log.lastTerm(),
      persistedIndex: this.log.persisted,
      configuration: this.config,
    };
  }

  /** Advances logical time by one tick: election timeouts, heartbeats and quorum checks. */
  tick(): void {
    this.assertNoPendingReady();
    this.electionElapsed++;
    if (this.roleValue === 'leader') {
      this.tickLeader();
    } else if (this.electionElapsed >= this.randomizedElectionTimeout && this.promotable()) {
      this.campaign();
    }
  }

  /** Starts an election now, as if the election timeout had fired. No effect for non-voters and leaders. */
  campaign(): void {
    this.assertNoPendingReady();
    if (this.roleValue === 'leader' || !this.promotable()) return;
    if (this.options.preVote) this.becomePreCandidate();
    else this.becomeCandidate();
  }

  /** Proposes a new entry. Only a leader accepts; others name the leader they know. */
  propose(data: Uint8Array, type: EntryType = 'command'): ProposeResult {
    this.assertNoPendingReady();
    if (this.roleValue !== 'leader' || this.replication === null) {
      return { accepted: false, code: 'NOT_LEADER', leader: this.leaderValue };
    }
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.termValue, type, data };
    this.appendAsLeader(entry);
    return { accepted: true, index: entry.index, term: entry.term };
  }

  /** Feeds one message from a peer into the state machine. */
  step(m: Message): void {
    this.assertNoPendingReady();
    if (m.to !== this.id || m.from === this.id) return;
    if (m.term > this.termValue) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.termValue) {
      this.answerStaleTerm(m);
      return;
    }
    switch (m.type) {
      case 'voteRequest':
        this.handleVoteRequest(m);
        return;
      case 'voteResponse':
        this.handleVoteResponse(m);
        return;
      case 'appendRequest':
      case 'heartbeatRequest':
        this.handleLeaderMessage(m);
        return;
      case 'appendResponse':
        this.replication?.handleAppendResponse(m);
        this.afterReplicationProgress();
        return;
      case 'heartbeatResponse':
        this.replication?.handleHeartbeatResponse(m);
        return;
      case 'snapshotRequest':
      case 'timeoutNow':
      case 'readIndexRequest':
      case 'readIndexResponse':
        // Introduced with snapshots, transfers and reads; ignored until then.
        return;
    }
  }

  /** True when {@link ready} has something for the runtime to do. */
  hasReady(): boolean {
    if (this.pendingReady !== null) return false;
    this.replication?.flush();
    return (
      this.outbox.length > 0 ||
      this.log.unpersisted().length > 0 ||
      this.log.applied < this.log.committed ||
      this.softChanged() ||
      this.hardChanged()
    );
  }

  /** Collects the work for the runtime (see {@link Ready} for the order it must be done in). */
  ready(): Ready {
    this.assertNoPendingReady();
    this.replication?.flush();
    const hard = this.hardState();
    const soft = this.softState();
    const ready: Ready = {
      softState: this.softChanged() ? soft : null,
      hardState: this.hardChanged() ? hard : null,
      snapshot: null,
      entries: this.log.unpersisted(),
      committedEntries: this.log.toApply(this.options.maxApplyPerReady),
      messages: this.outbox,
      readStates: [],
    };
    this.outbox = [];
    this.pendingReady = ready;
    return ready;
  }

  /** Tells the core that everything in `ready` has been done. */
  advance(ready: Ready): void {
    if (ready !== this.pendingReady) throw new Error('advance() called with a Ready that is not outstanding');
    this.pendingReady = null;
    if (ready.hardState !== null) this.lastHard = ready.hardState;
    if (ready.softState !== null) this.lastSoft = ready.softState;
    const lastEntry = ready.entries.at(-1);
    if (lastEntry !== undefined) this.log.persistedTo(lastEntry.index, lastEntry.term);
    const lastApplied = ready.committedEntries.at(-1);
    if (lastApplied !== undefined) this.log.applied = Math.max(this.log.applied, lastApplied.index);
    // The leader's own entries count towards commitment only once persisted.
    if (this.roleValue === 'leader') this.afterReplicationProgress();
  }

  /**
   * Raft §5.4.2: a leader only commits entries of its own term by counting replicas; earlier
   * entries commit indirectly with them. Subclasses in tests break this rule on purpose to prove
   * the simulation notices.
   */
  protected canCommitAt(index: number): boolean {
    return this.log.term(index) === this.termValue;
  }

  // --- term handling --------------------------------------------------------------------------

  /** Returns false when the message must be dropped without changing our term. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === 'voteRequest') {
      // Thesis §4.2.3 / §6.2: while a leader is known to be alive, ignore candidates, so a removed or
      // partitioned server cannot depose a healthy leader. A transfer overrides this on purpose.
      if (!m.transfer && this.inLeaderLease()) return false;
      if (m.preVote) return true; // a pre-vote never changes our term
    }
    if (m.type === 'voteResponse' && m.preVote && m.granted) return true;
    const leader =
      m.type === 'appendRequest' || m.type === 'heartbeatRequest' || m.type === 'snapshotRequest';
    this.becomeFollower(m.term, leader ? m.from : null);
    return true;
  }

  private answerStaleTerm(m: Message): void {
    if (m.type === 'appendRequest' || m.type === 'heartbeatRequest' || m.type === 'snapshotRequest') {
      // A deposed leader learns of the newer term from this answer. Without it, a leader cut off by
      // check-quorum or pre-vote could keep sending forever.
      this.send({ type: 'appendResponse', to: m.from, success: false, index: 0, hintIndex: 0, hintTerm: 0 });
    } else if (m.type === 'voteRequest' && m.preVote) {
      this.send({ type: 'voteResponse', to: m.from, preVote: true, granted: false });
    }
  }

  private inLeaderLease(): boolean {
    return (
      this.options.checkQuorum &&
      this.leaderValue !== null &&
      this.roleValue !== 'leader' &&
      this.electionElapsed < this.options.electionTicks
    );
  }

  // --- elections (Raft §5.2) -------------------------------------------------------------------

  private handleVoteRequest(m: VoteRequest): void {
    const canVote =
      this.voteValue === m.from ||
      (this.voteValue === null && this.leaderValue === null) ||
      (m.preVote && m.term > this.termValue);
    const granted = canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
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
    const outcome = tallyVotes(votersOf(this.config), this.votes);
    if (outcome === 'won') {
      if (this.roleValue === 'preCandidate') this.becomeCandidate();
      else this.becomeLeader();
    } else if (outcome === 'lost') {
      this.becomeFollower(this.termValue, null);
    }
  }

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (term > this.termValue) {
      this.termValue = term;
      this.voteValue = null;
    }
    this.roleValue = 'follower';
    this.leaderValue = leader;
    this.replication = null;
    this.votes.clear();
    this.electionElapsed = 0;
    this.resetElectionTimer();
  }

  private becomePreCandidate(): void {
    this.roleValue = 'preCandidate';
    this.leaderValue = null;
    this.electionElapsed = 0;
    this.resetElectionTimer();
    this.requestVotes(true);
  }

  private becomeCandidate(): void {
    this.termValue++;
    this.voteValue = this.id;
    this.roleValue = 'candidate';
    this.leaderValue = null;
    this.electionElapsed = 0;
    this.resetElectionTimer();
    this.requestVotes(false);
  }

  private requestVotes(preVote: boolean): void {
    this.votes.clear();
    this.votes.set(this.id, true);
    const term = preVote ? this.termValue + 1 : this.termValue;
    for (const to of votersOf(this.config)) {
      if (to === this.id) continue;
      this.send(
        {
          type: 'voteRequest',
          to,
          preVote,
          lastLogIndex: this.log.lastIndex(),
          lastLogTerm: this.log.lastTerm(),
          transfer: false,
        },
        term,
      );
    }
    // A single voter wins at once.
    if (tallyVotes(votersOf(this.config), this.votes) === 'won') {
      if (preVote) this.becomeCandidate();
      else this.becomeLeader();
    }
  }

  private becomeLeader(): void {
    this.roleValue = 'leader';
    this.leaderValue = this.id;
    this.votes.clear();
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.replication = new Replication({
      id: this.id,
      options: this.options,
      log: this.log,
      term: this.termValue,
      send: (m) => this.outbox.push(m),
      peers: () => this.config.servers.map((s) => s.id).filter((id) => id !== this.id),
    });
    // Raft §8: a new leader commits an entry of its own term at once, which also commits
    // everything before it and tells the leader what is committed.
    this.appendAsLeader({
      index: this.log.lastIndex() + 1,
      term: this.termValue,
      type: 'noop',
      data: new Uint8Array(),
    });
  }

  private promotable(): boolean {
    return isVoter(this.config, this.id);
  }

  private resetElectionTimer(): void {
    const base = this.options.electionTicks;
    this.randomizedElectionTimeout = base + this.options.random.int(base);
  }

  // --- leader ---------------------------------------------------------------------------------

  private tickLeader(): void {
    this.heartbeatElapsed++;
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0;
      const replication = this.replication as Replication;
      if (this.options.checkQuorum) {
        const active = (id: NodeId) => id === this.id || replication.takeRecentActive(id);
        if (!hasQuorum(votersOf(this.config), active)) {
          // Thesis §6.2: a leader that cannot reach a quorum steps down, so clients look elsewhere.
          this.becomeFollower(this.termValue, null);
          return;
        }
      }
    }
    if (this.heartbeatElapsed >= this.options.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.replication?.broadcastHeartbeat(this.log.committed, 0);
    }
  }

  private appendAsLeader(entry: Entry): void {
    this.log.append(entry);
    if (entry.type === 'config') this.applyConfigEntry(entry);
    this.replication?.markDirty();
  }

  /** Commits what a quorum (counting our own persisted entries) has, then spreads the news. */
  private afterReplicationProgress(): void {
    const replication = this.replication;
    if (replication === null) return;
    const index = quorumMatchIndex(votersOf(this.config), (id) =>
      id === this.id ? this.log.persisted : replication.matchOf(id),
    );
    if (index > this.log.committed && this.canCommitAt(index)) {
      this.log.commitTo(index);
      replication.markDirty();
    }
  }

  // --- followers ------------------------------------------------------------------------------

  private handleLeaderMessage(m: AppendRequest | HeartbeatRequest): void {
    if (this.roleValue === 'leader') {
      throw new Error(`two leaders in term ${this.termValue}: ${this.id} and ${m.from}`);
    }
    if (this.roleValue !== 'follower' || this.leaderValue !== m.from) this.becomeFollower(m.term, m.from);
    this.electionElapsed = 0;
    if (m.type === 'heartbeatRequest') {
      // The leader sends min(match, commit), so every index up to it matches the leader's log.
      this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
      this.send({ type: 'heartbeatResponse', to: m.from, context: m.context });
      return;
    }
    this.handleAppend(m);
  }

  private handleAppend(m: AppendRequest): void {
    const log = this.log;
    if (m.prevIndex < log.committed) {
      // Everything up to our commit index matches any current leader (Leader Completeness).
      this.send({
        type: 'appendResponse',
        to: m.from,
        success: true,
        index: log.committed,
        hintIndex: 0,
        hintTerm: 0,
      });
      return;
    }
    const truncatesConfig = m.entries.some(
      (e) => e.index <= this.configIndex && log.term(e.index) !== e.term,
    );
    const lastNew = log.tryAppend(m.prevIndex, m.prevTerm, m.entries);
    if (lastNew === undefined) {
      const hint = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
      this.send({
        type: 'appendResponse',
        to: m.from,
        success: false,
        index: m.prevIndex,
        hintIndex: hint.index,
        hintTerm: hint.term,
      });
      return;
    }
    if (truncatesConfig || m.entries.some((e) => e.type === 'config')) this.refreshConfiguration();
    log.commitTo(Math.min(m.commit, lastNew));
    this.send({
      type: 'appendResponse',
      to: m.from,
      success: true,
      index: lastNew,
      hintIndex: 0,
      hintTerm: 0,
    });
  }

  // --- configuration --------------------------------------------------------------------------

  private applyConfigEntry(entry: Entry): void {
    this.config = decodeConfiguration(entry.data);
    this.configIndex = entry.index;
  }

  /** Re-derives the configuration from the newest config entry in the log, after appends or truncation. */
  private refreshConfiguration(): void {
    for (let i = this.log.lastIndex(); i > this.log.snapshotIndex; i--) {
      const entry = this.log.entry(i) as Entry;
      if (entry.type === 'config') {
        this.applyConfigEntry(entry);
        return;
      }
    }
    this.config = this.snapshotConfig.config;
    this.configIndex = this.snapshotConfig.index;
  }

  // --- output ---------------------------------------------------------------------------------

  private send(m: MessageDraft, term = this.termValue): void {
    this.outbox.push({ ...m, from: this.id, term } as Message);
  }

  private hardState(): HardState {
    return { term: this.termValue, vote: this.voteValue, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { role: this.roleValue, leader: this.leaderValue };
  }

  private hardChanged(): boolean {
    const h = this.lastHard;
    return h.term !== this.termValue || h.vote !== this.voteValue || h.commit !== this.log.committed;
  }

  private softChanged(): boolean {
    return this.lastSoft.role !== this.roleValue || this.lastSoft.leader !== this.leaderValue;
  }

  private assertNoPendingReady(): void {
    if (this.pendingReady !== null) throw new Error('the core takes no input between ready() and advance()');
  }
}
