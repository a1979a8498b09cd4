import { randomBytes, randomInt } from 'node:crypto';
import { type Clock, type ClockTimer, systemClock } from '../clock.js';
import { decodeConfiguration, votersOf } from '../core/configuration.js';
import type { ConfChange } from '../core/membership.js';
import { isMulticast, planSends } from '../core/multicast.js';
import { type CoreInitialState, RaftCore } from '../core/raft.js';
import type { RandomBytes, RandomSource } from '../core/random.js';
import type { Ready } from '../core/ready.js';
import type { Configuration, Entry, Message, NodeId, Role } from '../core/types.js';
import { isRaftError, RaftError } from '../errors.js';
import type { Fsm } from '../fsm.js';
import { isLogger, type Logger, silentLogger } from '../logger.js';
import { callPolicy, checkTimeout, type RetryDefaults, retry } from '../retry.js';
import type { RaftStorage, SnapshotRecord } from '../storage/types.js';
import type { Transport } from '../transport/types.js';
import { coreOptions, coreTiming, parseRaftConfig, type RaftConfig, type RaftConfigInput } from './config.js';
import { type CallOptions, withDeadline } from './deadline.js';
import { type RaftEvents, TypedEmitter } from './events.js';
import { ForwardServer, forwardRefusal, toWireError } from './forwarding.js';
import { LeaderWatch } from './leader-watch.js';
import { NodeLog } from './node-log.js';
import { PeerHealth } from './peer-health.js';
import { PeerInput } from './peer-input.js';
import { PendingProposals } from './pending.js';
import { type ApplyOptions, type ChangeOptions, Proposer } from './proposer.js';
import { ReadWaiters } from './reads.js';
import { ReadyPersister } from './ready-persister.js';
import { SnapshotScheduler } from './snapshot-scheduler.js';
import { restoreSnapshot } from './snapshots.js';
import {
  bootstrapStorage,
  hasExistingState,
  loadState,
  recordRemoval,
  recoverStorage,
  removalIndex,
} from './state.js';
import { nodeStats, type RaftStats } from './stats.js';
import { TransferWaiters } from './transfer-waiters.js';
import { WorkLoop } from './work-loop.js';
import { eachYielding } from './yielding.js';

/** The leader's view of one follower (see {@link Raft.followerProgress}). */
export interface FollowerProgress {
  readonly id: NodeId;
  /** When the leader last heard from it, in ms on the node's clock; null when never. */
  readonly lastContact: number | null;
  /** The highest index known to match the leader's log (Raft Figure 2). */
  readonly matchIndex: number;
}

/** What a node is built from. */
export interface RaftOptions {
  readonly config: RaftConfigInput;
  readonly fsm: Fsm;
  readonly storage: RaftStorage;
  readonly transport: Transport;
  /** Randomness for election timeouts; defaults to a cryptographically seeded generator. */
  readonly random?: RandomSource;
  /** Bytes of this process's incarnation token; defaults to the system's cryptographic generator. */
  readonly randomBytes?: RandomBytes;
  /** Time and timers; defaults to the system's (a simulation injects its own). */
  readonly clock?: Clock;
  /**
   * False starts the node deaf to its peers: their messages and snapshots are dropped until
   * {@link Raft.listen}, so it neither votes nor stores entries meanwhile (its own calls, forwarded,
   * still work). For a server that lost its storage while the group may still list it: it must
   * take no part until the group has removed its old self (Raft thesis §3.8: a server that forgot
   * what it acknowledged, voting, lets a leader without those entries win). Default true.
   */
  readonly listening?: boolean;
  /** Where the node logs what it does (see {@link NodeLog}); pino-compatible. Default: nothing is logged. */
  readonly logger?: Logger;
}

/**
 * A Raft server: it owns a pure core and does its I/O. One loop does everything in order: feed
 * queued input to the core, persist its Ready in one synced batch (group commit; a non-voter's
 * Ready may wait for the next one's, see `RaftCore.mayDeferWrite`), send, apply to the FSM, advance.
 * The public methods return promises that settle when the outcome is known.
 */
export class Raft extends TypedEmitter<RaftEvents> {
  /** Creates a new group on fresh storage (see {@link bootstrapStorage}). */
  static bootstrapCluster(storage: RaftStorage, configuration: Configuration): Promise<void> {
    return bootstrapStorage(storage, configuration);
  }

  /** True when `storage` holds Raft state already. */
  static hasExistingState(storage: RaftStorage): Promise<boolean> {
    return hasExistingState(storage);
  }

  /**
   * Records in `storage` that the committed configuration at `index` removed this server (the
   * index `removeServer` of itself resolved with), so that a restart does not campaign on the
   * stale configuration its log may still hold; 0 clears it (see {@link recordRemoval}).
   */
  static recordRemoval(storage: RaftStorage, index: number): Promise<void> {
    return recordRemoval(storage, index);
  }

  /** The index recorded by {@link Raft.recordRemoval}, or 0. */
  static removalIndex(storage: RaftStorage): Promise<number> {
    return removalIndex(storage);
  }

  /** Forces a new configuration after quorum loss (see {@link recoverStorage}). */
  static recoverCluster(storage: RaftStorage, fsm: Fsm, configuration: Configuration): Promise<void> {
    return recoverStorage(storage, fsm, configuration);
  }

  /** Loads state from storage, restores the FSM, and starts the node. */
  static async start(options: RaftOptions): Promise<Raft> {
    const config = parseRaftConfig(options.config);
    if (options.logger !== undefined && !isLogger(options.logger)) {
      throw new RaftError('INVALID_CONFIG', 'logger: must have debug, info, warn and error methods');
    }
    if (options.transport.localId !== config.localId) {
      throw new RaftError(
        'INVALID_CONFIG',
        `transport.localId: must equal localId (${options.transport.localId})`,
      );
    }
    const { initial, snapshot } = await loadState(options.storage);
    if (snapshot !== null)
      await options.fsm.restore((await options.storage.open(snapshot.id)).chunks, snapshot.meta);
    const raft = new Raft(config, options, initial);
    await raft.begin();
    return raft;
  }

  readonly id: NodeId;
  private readonly config: RaftConfig;
  private readonly fsm: Fsm;
  private readonly storage: RaftStorage;
  private readonly transport: Transport;
  private readonly core: RaftCore;
  private readonly timing: ReturnType<typeof coreTiming>;
  /** Election timeouts and the spread of snapshots (snapshot-scheduler.ts). */
  private readonly random: RandomSource;
  private readonly proposals = new PendingProposals();
  private readonly reads: ReadWaiters;
  private readonly loop: WorkLoop<RaftCore>;
  private closed = false;
  private stopping: Promise<void> | null = null;
  /** False while deaf to peers (see {@link RaftOptions.listening}). */
  private listening: boolean;
  private fatal: unknown = null;
  private ticker: ClockTimer | null = null;
  private tickQueued = false;
  private appliedIndex: number;
  private readonly snapshots: SnapshotScheduler;
  private role: Role = 'follower';
  private leaderId: NodeId | null = null;
  private configIndex = -1;
  private lastLeaderContact: number | null = null;
  private readonly peers: PeerHealth;
  /** The newest configuration that is committed and applied here. */
  private committedConfig: { configuration: Configuration; index: number };
  private readonly forwardServer: ForwardServer;
  private readonly proposer: Proposer;
  private readonly transfers = new TransferWaiters();
  private readies = 0;
  private readonly persister: ReadyPersister;
  private readonly leaderWatch: LeaderWatch;
  /** Deadlines and back-off of every call that retries (proposals, forwards, reads). */
  private readonly retryDefaults: RetryDefaults;
  private readonly peerInput: PeerInput;
  private readonly log: NodeLog;

  private constructor(config: RaftConfig, options: RaftOptions, initial: CoreInitialState) {
    super(options.clock ?? systemClock);
    this.id = config.localId;
    this.listening = options.listening ?? true;
    this.config = config;
    this.fsm = options.fsm;
    this.storage = options.storage;
    this.transport = options.transport;
    this.timing = coreTiming(config);
    this.random = options.random ?? { int: (bound) => randomInt(bound) };
    this.core = new RaftCore(coreOptions(config, this.random), initial);
    this.loop = new WorkLoop(
      this.core,
      () => this.handleNextReady(),
      (err) => this.failStop(err),
    );
    this.appliedIndex = initial.snapshot.index;
    this.persister = new ReadyPersister(this.storage, initial.hardState);
    this.committedConfig = { configuration: initial.snapshot.config, index: initial.snapshot.configIndex };
    this.reads = new ReadWaiters(() => this.appliedIndex);
    this.peers = new PeerHealth(config.heartbeatTimeout);
    this.leaderWatch = new LeaderWatch(this.clock);
    this.retryDefaults = {
      timeoutMs: this.defaultTimeout(),
      minDelayMs: this.timing.tickMs,
      // About an election timeout: by then a lost leader has a successor.
      maxDelayMs: Math.max(this.timing.tickMs, config.electionTimeout),
      pause: (ms) => this.leaderWatch.nextOrDelay(ms),
      clock: this.clock,
    };
    this.proposer = this.createProposer(config, options);
    this.forwardServer = new ForwardServer(
      () => this.role === 'leader',
      () => this.leaderId,
      (request) => this.proposer.performForwarded(request),
    );
    this.peerInput = new PeerInput({
      storage: this.storage,
      run: (t) => this.run(t),
      step: (m) => this.enqueue((core) => core.step(m)),
    });
    this.snapshots = new SnapshotScheduler(
      {
        config,
        fsm: this.fsm,
        storage: this.storage,
        transport: this.transport,
        core: this.core,
        run: (task) => this.run(task),
        enqueue: (task) => this.enqueue(task),
        appliedIndex: () => this.appliedIndex,
        written: () => this.persister.drained(),
        clock: this.clock,
        random: this.random,
        taken: (snapshot) => this.emit('snapshotTaken', snapshot),
        failed: (error) => this.emit('snapshotFailed', { error }),
      },
      initial.snapshot.index,
    );
    this.log = new NodeLog({
      id: this.id,
      logger: options.logger ?? silentLogger,
      clock: this.clock,
      on: (event, listener) => this.on(event, listener),
      dropped: () => this.stats().droppedMessages,
    });
  }

  /** The proposer: this node's calls, applied here as leader or forwarded to the leader. */
  private createProposer(config: RaftConfig, options: RaftOptions): Proposer {
    return new Proposer({
      id: this.id,
      clock: this.clock,
      incarnation: Buffer.from((options.randomBytes ?? randomBytes)(8)).toString('hex'),
      forwardToLeader: config.forwardToLeader,
      role: () => this.role,
      leader: () => this.leaderId,
      transport: this.transport,
      run: (task) => this.run(task),
      proposals: this.proposals,
      retry: this.retryDefaults,
      resendAfterMs: this.resendAfterMs(),
      forwardedTimeoutMs: Math.max(this.defaultTimeout(), 30_000),
      onLeaderChange: (listener) => this.leaderWatch.watch(listener),
    });
  }

  // --- lifecycle ------------------------------------------------------------------------------

  private async begin(): Promise<void> {
    await this.transport.start({
      onMessage: (m) => this.receive(m),
      onSnapshot: (request, chunks) => {
        if (this.closed) return Promise.reject(this.shutdownError());
        if (!this.listening) {
          const message = `${this.id} takes no part in the group until its old self is removed`;
          return Promise.reject(new RaftError('UNREACHABLE', message, { retryable: true }));
        }
        return this.peerInput.receiveSnapshot(request, chunks);
      },
      onForward: (request, from) => {
        if (this.closed)
          return Promise.resolve({ ok: false, error: toWireError(this.shutdownError(), null) });
        // Authorization inside the protocol (design §7): a member speaks only for itself.
        const refusal = forwardRefusal(request, from, this.getConfiguration().configuration);
        if (refusal !== null) return Promise.resolve({ ok: false, error: refusal });
        return this.forwardServer.handle(request);
      },
    });
    this.ticker = this.clock.setInterval(() => this.queueTick(), this.timing.tickMs);
    this.ticker.unref?.();
    this.publishState();
    this.enqueue(() => undefined);
    // The only voter needs no one else's vote: its own is a majority (Raft §5.2), so waiting out
    // an election timeout (1-2 s by default) would only delay a new group's first write.
    if (this.listening && soleVoter(this.core.configuration, this.id))
      this.enqueue((core) => core.campaign());
  }

  /** Ends the deafness {@link RaftOptions.listening} started with: peer messages are taken from now on. */
  listen(): void {
    this.listening = true;
  }

  /** Stops the node: pending calls fail with `SHUTDOWN` (indefinite for accepted proposals). Storage stays open. */
  shutdown(): Promise<void> {
    return this.stop(null);
  }

  // --- proposals ------------------------------------------------------------------------------

  /**
   * Replicates `data`; resolves with its index and the FSM's response once applied on the leader.
   * On a follower the call is forwarded to the leader (unless `forwardToLeader` is off, when it
   * fails with `NOT_LEADER` naming the leader). A forward whose leader is lost fails at once with
   * an indefinite `LEADERSHIP_LOST`, unless `idempotent` lets it go on through the next leader.
   */
  async apply(data: Uint8Array, options: ApplyOptions = {}): Promise<{ index: number; response: unknown }> {
    if (!(data instanceof Uint8Array))
      throw new RaftError('INVALID_INPUT', 'apply: data must be a Uint8Array');
    const startedAt = this.clock.now();
    const settled = (outcome: RaftEvents['proposalSettled']['outcome']) =>
      this.emit('proposalSettled', { outcome, durationMs: this.clock.now() - startedAt });
    try {
      const { index, response } = await this.proposer.apply(data, options);
      settled('applied');
      return { index, response };
    } catch (err) {
      settled(isRaftError(err) ? err.code : 'UNKNOWN');
      throw err;
    }
  }

  /** Resolves once every entry before it is applied on the leader (hashicorp's Barrier). */
  async barrier(options: CallOptions = {}): Promise<{ index: number }> {
    const { index } = await this.proposer.barrier(options);
    return { index };
  }

  /** Adds `id` as a staging server, promoted to voter once caught up. */
  addVoter(id: NodeId, options: ChangeOptions = {}): Promise<{ index: number }> {
    return this.change({ type: 'addVoter', id }, options);
  }

  /** Adds `id` as a non-voter: it receives the log but never votes. */
  addNonvoter(id: NodeId, options: ChangeOptions = {}): Promise<{ index: number }> {
    return this.change({ type: 'addNonvoter', id }, options);
  }

  /** Turns voter `id` into a non-voter. */
  demoteVoter(id: NodeId, options: ChangeOptions = {}): Promise<{ index: number }> {
    return this.change({ type: 'demoteVoter', id }, options);
  }

  /** Removes `id` from the group; a leader removing itself steps down once the change commits. */
  removeServer(id: NodeId, options: ChangeOptions = {}): Promise<{ index: number }> {
    return this.change({ type: 'removeServer', id }, options);
  }

  private async change(change: ConfChange, options: ChangeOptions): Promise<{ index: number }> {
    const { index } = await this.proposer.changeMembership(change, options);
    return { index };
  }

  // --- reads, leadership -----------------------------------------------------------------------

  /**
   * A linearizable read point (ReadIndex, thesis §6.4): resolves with an index once this node has
   * applied every entry committed before the call. Read the FSM then. Works on followers through
   * the leader; a read the leader could not confirm (an election meanwhile) is asked again until
   * the deadline, as reading changes nothing.
   */
  readIndex(options: CallOptions = {}): Promise<number> {
    const policy = callPolicy('readIndex', options, this.retryDefaults, true);
    // A lost request or answer must not cost the whole deadline: each round waits a bounded time.
    return retry(policy, ({ remainingMs }) =>
      this.readIndexOnce({ ...options, timeoutMs: Math.min(remainingMs, this.resendAfterMs()) }),
    );
  }

  /** One ReadIndex round: fails with `LEADERSHIP_LOST` when the leader cannot confirm it. */
  private readIndexOnce(options: CallOptions): Promise<number> {
    const { id, promise } = this.reads.create();
    this.enqueue((core) => core.readIndex(id));
    return withDeadline(promise, {
      what: 'readIndex',
      timeoutMs: options.timeoutMs ?? this.defaultTimeout(),
      signal: options.signal,
      indefinite: false,
      onGiveUp: () => this.reads.cancel(id),
      clock: this.clock,
    });
  }

  /** Resolves when a quorum confirms this node still leads; rejects with `NOT_LEADER` otherwise. */
  async verifyLeader(options: CallOptions = {}): Promise<void> {
    if (this.role !== 'leader')
      throw new RaftError('NOT_LEADER', 'verifyLeader: not the leader', {
        leader: this.leaderId,
        retryable: true,
      });
    checkTimeout('verifyLeader', options.timeoutMs);
    // One round only: a retry could be served by another leader and prove nothing about this one.
    await this.readIndexOnce(options);
  }

  /** Hands leadership to `target` (or the most up-to-date voter); resolves once this node no longer leads. */
  async leadershipTransfer(target?: NodeId, options: CallOptions = {}): Promise<void> {
    checkTimeout('leadershipTransfer', options.timeoutMs);
    const result = await this.run((core) => core.transferLeadership(target));
    if (!result.accepted)
      throw new RaftError(result.code, `leadershipTransfer: ${result.message}`, {
        leader: result.leader,
        // A target that is this node or no voter stays wrong however often it is asked.
        retryable: result.code !== 'INVALID_INPUT',
      });
    await withDeadline(this.transfers.wait(), {
      what: 'leadershipTransfer',
      timeoutMs: options.timeoutMs ?? this.defaultTimeout(),
      signal: options.signal,
      indefinite: true,
      clock: this.clock,
    });
  }

  /** Takes a snapshot now and compacts the log; resolves with the stored snapshot. */
  async snapshot(): Promise<SnapshotRecord> {
    // The capture must happen inside the loop, between two Readies; run() resolves with the
    // write's promise wrapped, so the loop never waits for the write.
    const { done } = await this.run(() => ({ done: this.snapshots.start() }));
    return done;
  }

  // --- status ---------------------------------------------------------------------------------

  state(): Role {
    return this.role;
  }

  leader(): NodeId | null {
    return this.leaderId;
  }

  /** The latest configuration (in effect once appended) and its index. */
  getConfiguration(): { configuration: Configuration; index: number } {
    return { configuration: this.core.configuration, index: this.core.configurationIndex };
  }

  /** The newest committed configuration this node has applied, and its index. */
  getCommittedConfiguration(): { configuration: Configuration; index: number } {
    return this.committedConfig;
  }

  /** When this node last heard from the leader (ms since epoch); now when it leads; null if never. */
  lastContact(): number | null {
    return this.role === 'leader' ? this.clock.now() : this.lastLeaderContact;
  }

  /**
   * On the leader: every other server of the latest configuration, with when this node last heard
   * from it (ms on the node's clock; null when never) and its match index; null on other roles,
   * which do not track their peers.
   */
  followerProgress(): FollowerProgress[] | null {
    if (this.core.role !== 'leader') return null;
    return this.core.configuration.servers
      .filter((s) => s.id !== this.id)
      .map(({ id }) => ({
        id,
        lastContact: this.peers.lastHeardFrom(id) ?? null,
        matchIndex: this.core.matchIndexOf(id) ?? 0,
      }));
  }

  /** The local failure (a storage write, the FSM) that stopped this node, or null while it runs. */
  failure(): Error | null {
    if (this.fatal === null) return null;
    return this.fatal instanceof Error ? this.fatal : new Error(String(this.fatal));
  }

  /** Positions and counters, for monitoring. */
  stats(): RaftStats {
    return nodeStats(this.core.status(), {
      appliedIndex: this.appliedIndex,
      lastSnapshotIndex: this.snapshots.lastIndex,
      pendingProposals: this.proposals.size,
      readies: this.readies,
      entries: this.persister.entries,
      batches: this.persister.batches,
      deferredReadies: this.persister.deferredReadies,
      dropped: this.peerInput.dropped,
    });
  }

  // --- the loop -------------------------------------------------------------------------------

  /** Two election timeouts: by then a request was lost, or a new leader is known. */
  private resendAfterMs(): number {
    return 2 * this.config.electionTimeout;
  }

  private defaultTimeout(): number {
    return 10 * this.config.electionTimeout;
  }

  /** Queues work for the core; it runs between Readies, never during one. */
  private enqueue(task: (core: RaftCore) => void): void {
    if (!this.closed) this.loop.enqueue(task);
  }

  /** Like {@link enqueue}, returning the task's result. */
  private run<T>(task: (core: RaftCore) => T): Promise<T> {
    if (this.closed) return Promise.reject(this.shutdownError());
    return this.loop.run(task, () => this.shutdownError());
  }

  /** Handles one Ready, if the core has one. */
  private async handleNextReady(): Promise<boolean> {
    if (this.closed || !this.core.hasReady()) return false;
    await this.handleReady(this.core.ready());
    return true;
  }

  /**
   * Persist, send, apply, advance: the only place that orders I/O (design principle 2). A leader's
   * own new entries are the exception: their write runs on while the loop goes on taking proposals
   * and answers (see `RaftCore.mayPersistLater`); its messages and the core's report follow it.
   */
  private async handleReady(ready: Ready): Promise<void> {
    const core = this.core;
    // A leader's appends go out first: its followers write while it writes (thesis §10.2.1).
    this.sendAll(ready.earlyMessages);
    if (ready.snapshot !== null) await this.peerInput.installing(ready.snapshot);
    const persistLater = core.mayPersistLater(ready);
    if (persistLater) {
      this.persister.persist(ready).then(
        () => {
          this.sendAll(ready.messages);
          this.enqueue((c) => c.persisted(ready));
        },
        (err: unknown) =>
          this.enqueue(() => {
            throw err;
          }),
      );
    } else {
      await this.persister.persist(ready, { defer: core.mayDeferWrite(ready) });
      this.sendAll(ready.messages);
    }
    if (ready.snapshot !== null) {
      const startedAt = this.clock.now();
      const { size } = await restoreSnapshot(this.fsm, this.storage, ready.snapshot);
      const durationMs = this.clock.now() - startedAt;
      this.emit('snapshotInstalled', { index: ready.snapshot.index, bytes: size, durationMs });
      this.appliedIndex = ready.snapshot.index;
      this.configurationApplied(ready.snapshot.config, ready.snapshot.configIndex);
      this.snapshots.installed(ready.snapshot.index);
      this.proposals.skippedTo(ready.snapshot.index);
    }
    await eachYielding(ready.committedEntries, (entry) => this.applyEntry(entry), this.clock);
    this.reads.answered(ready.readStates);
    this.reads.appliedTo();
    if (persistLater) core.accept(ready);
    else core.advance(ready);
    this.readies++;
    this.publishState();
    if (!this.closed) this.snapshots.maybeStart();
  }

  /** Sends a Ready's messages; identical appends and heartbeats to several followers as one multicast. */
  private sendAll(messages: readonly Message[]): void {
    const transport = this.transport;
    if (transport.multicast === undefined) {
      for (const m of messages) this.sendOne(m);
      return;
    }
    for (const out of planSends(messages, 2)) {
      if (isMulticast(out)) transport.multicast(out.recipients, out.message);
      else this.sendOne(out);
    }
  }

  private sendOne(m: Message): void {
    if (m.type === 'snapshotRequest') this.snapshots.send(m);
    else this.transport.send(m);
  }

  private async applyEntry(entry: Entry): Promise<void> {
    const response = entry.type === 'command' ? await this.fsm.apply(entry) : undefined;
    this.appliedIndex = entry.index;
    if (entry.type === 'config') this.configurationApplied(decodeConfiguration(entry.data), entry.index);
    this.proposals.applied(entry, response);
  }

  private configurationApplied(configuration: Configuration, index: number): void {
    this.committedConfig = { configuration, index };
    this.emit('configurationCommitted', this.committedConfig);
  }

  /** Emits events for role, leader and configuration changes, and settles leadership transfers. */
  private publishState(): void {
    // Runs after every Ready: it reads the core's fields, not a whole status() picture.
    const core = this.core;
    if (core.role !== this.role) {
      const previous = this.role;
      this.role = core.role;
      this.emit('stateChange', { previous, current: core.role, term: core.term });
    }
    if (core.leader !== this.leaderId) {
      this.leaderId = core.leader;
      if (core.leader !== null) this.lastLeaderContact = this.clock.now();
      this.leaderWatch.changed(core.leader);
      this.emit('leaderChange', { leader: core.leader, term: core.term });
    }
    if (core.configurationIndex !== this.configIndex) {
      this.configIndex = core.configurationIndex;
      this.emit('peerChange', { configuration: core.configuration, index: core.configurationIndex });
    }
    this.transfers.settle(core);
  }

  // --- time -----------------------------------------------------------------------------------

  private queueTick(): void {
    // Ticks coalesce: a node that fell behind counts time a little slowly, never in bursts that
    // would fire elections spuriously.
    if (this.tickQueued) return;
    this.tickQueued = true;
    this.enqueue((core) => {
      this.tickQueued = false;
      core.tick();
      this.checkPeers();
      this.log.checkDrops();
    });
  }

  /** As leader, reports peers that stopped answering. */
  private checkPeers(): void {
    if (this.role !== 'leader') {
      this.peers.reset();
      return;
    }
    const ids = this.core.configuration.servers.map((s) => s.id).filter((id) => id !== this.id);
    for (const failure of this.peers.check(ids, this.clock.now())) this.emit('heartbeatFailed', failure);
  }

  // --- inbound --------------------------------------------------------------------------------

  private receive(m: Message): void {
    if (this.closed || !this.listening || m.to !== this.id || !this.peerInput.admit(m)) return;
    const now = this.clock.now();
    if (this.peers.heard(m.from, now)) this.emit('heartbeatResumed', { peer: m.from });
    if (m.from === this.leaderId) this.lastLeaderContact = now;
    this.enqueue((core) => core.step(m));
  }

  // --- failure --------------------------------------------------------------------------------

  /** A storage or FSM failure: stop rather than risk acknowledging what is not durable. */
  private failStop(err: unknown): Promise<void> {
    this.log.failStopped(err);
    return this.stop({ cause: err });
  }

  /**
   * The one way a node stops, asked for (`failure` null) or after a failure. Either way nothing
   * more is taken, every pending call fails with an indefinite `SHUTDOWN` (an accepted proposal
   * may still commit through the other members), held snapshots are discarded and the transport
   * is closed; a shutdown also lets the writes in flight finish before the caller closes the store.
   */
  private stop(failure: { cause: unknown } | null): Promise<void> {
    if (this.stopping !== null) {
      // A failure while a shutdown waits for the very Ready that failed: that shutdown finishes
      // the job, and waiting for it here would wait for ourselves.
      if (failure !== null) {
        this.fatal ??= failure.cause;
        return Promise.resolve();
      }
      return this.stopping;
    }
    this.closed = true;
    if (failure !== null) this.fatal = failure.cause;
    if (this.ticker !== null) this.clock.clearInterval(this.ticker);
    this.stopping = (async () => {
      // After a failure the loop has already stopped itself, from inside the Ready that failed:
      // waiting for that Ready here would wait for this very call.
      if (failure === null) await this.loop.stop();
      const err =
        failure === null
          ? new RaftError('SHUTDOWN', 'the node is shut down', { indefinite: true })
          : new RaftError('SHUTDOWN', `the node stopped after a failure: ${describe(failure.cause)}`, {
              indefinite: true,
              cause: failure.cause,
            });
      this.proposals.rejectAll(err);
      this.reads.rejectAll(err);
      this.transfers.rejectAll(err);
      // A failed store may never answer the writes in flight: only a shutdown waits for them.
      if (failure === null) await this.persister.drained().catch(() => undefined);
      await this.peerInput.discardHeld();
      await this.transport.close().catch(() => undefined);
    })();
    return this.stopping;
  }

  private shutdownError(): RaftError {
    return new RaftError('SHUTDOWN', 'the node is shut down', { cause: this.fatal ?? undefined });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True when `id` is the one voter of `configuration`. */
function soleVoter(configuration: Configuration, id: NodeId): boolean {
  const voters = votersOf(configuration);
  return voters.length === 1 && voters[0] === id;
}
