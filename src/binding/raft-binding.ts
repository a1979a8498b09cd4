import { type Clock, systemClock } from '../clock.js';
import { isRaftError, RaftError } from '../errors.js';
import type { RaftMetrics } from '../metrics/raft-metrics.js';
import type { Raft } from '../node/raft.js';
import type { RaftStats } from '../node/stats.js';
import { checkTimeout } from '../retry.js';
import type { RaftStorage } from '../storage/types.js';
import { resolveOptions } from '../transport/mqtt-options.js';
import type { MqttTransportStats } from '../transport/mqtt-stats.js';
import { MqttTransport } from '../transport/mqtt-transport.js';
import type { Transport } from '../transport/types.js';
import type { BindingStatus, Consistency, ProposeOptions } from './binding-types.js';
import { enterGroup } from './enter-group.js';
import { type Input, parseInput } from './input.js';
import { leaveGroup } from './join.js';
import type { LeaderChore } from './leader-chore.js';
import { startMemberChores } from './member-chores.js';
import {
  MemberAdmin,
  type MemberCallOptions,
  type MemberChangeResult,
  type MemberInfo,
  type RemoveMemberOptions,
} from './members.js';
import { type MembershipChange, MembershipFeed, membersOf } from './membership-observer.js';
import { startMemberNode } from './node-parts.js';
import { type BindingOptions, parseBindingOptions, type ResolvedBindingOptions } from './options.js';
import type { BindingParts } from './parts.js';
import { type EntryInput, encodeProposal } from './proposal.js';
import { ProposalSessions } from './proposal-sessions.js';
import { type ApplyResult, RaftFsm } from './raft-fsm.js';
import type { IndexedObserveOptions, StateCapture, StateObservation } from './state-observation.js';
import { bindingTransportOptions } from './transport-options.js';
import { budgetInput, decodeBudget, VOTERS_SETTING } from './voter-budget.js';

/**
 * A member of a group that keeps a key-value state in sync through Raft over an MQTT broker: any
 * member proposes inputs, every member observes the same changes in the same order.
 */
export class RaftBinding {
  readonly id: string;
  private readonly options: ResolvedBindingOptions;
  private readonly fsm: RaftFsm;
  /** Numbers proposals so that the FSM applies each once, however often it is re-sent. */
  private readonly sessions: ProposalSessions;
  private phase: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';
  private raft: Raft | null = null;
  private storage: RaftStorage | null = null;
  private transport: Transport | null = null;
  private readonly membership: MembershipFeed;
  /** Stops reporting to `options.metrics`. */
  private stopMetrics = (): void => undefined;

  private readonly clock: Clock;
  private readonly admin: MemberAdmin;
  /** The leader's membership chores: dead-member removal, the voter budget. */
  private chores: LeaderChore[] = [];

  /** `parts` replaces the store, transport, clock or randomness the binding would make itself. */
  constructor(
    options: BindingOptions,
    private readonly parts: BindingParts = {},
  ) {
    this.clock = parts.clock ?? systemClock;
    this.options = parseBindingOptions(options);
    // The transport's own checks (the broker URL's scheme, the id's characters, TLS material) run
    // here, so a mistake is reported before open() creates anything on disk.
    resolveOptions(bindingTransportOptions(this.options, this.options.startupTimeout));
    this.id = this.options.id;
    this.fsm = new RaftFsm({ observerQueueLimit: this.options.observerQueueLimit, clock: this.clock });
    this.sessions = new ProposalSessions(parts.randomBytes);
    this.membership = new MembershipFeed(this.options.observerQueueLimit);
    this.admin = new MemberAdmin({
      raft: () => this.openRaft(),
      clock: this.clock,
      rpcTimeout: this.options.rpcTimeout,
      liveWithinMs: this.options.electionTimeout,
    });
  }

  /**
   * Starts the member: with `bootstrap` on a fresh store it creates the group (a new random group
   * id); on a store with state it restarts; otherwise it adopts the group id of the live members
   * and asks the group (through the leader) to add it, and resolves once it is a member. A member
   * that left the group joins again the same way. Fails with `CONFLICT` when another live process
   * uses this id, or when bootstrapping where the cluster name already has a live group; otherwise
   * after `startupTimeout`. Leaves nothing running when it fails.
   */
  async open(): Promise<void> {
    if (this.phase !== 'new') throw new RaftError('INVALID_INPUT', `open: the binding is ${this.phase}`);
    this.phase = 'opening';
    const deadline = this.clock.now() + this.options.startupTimeout;
    try {
      await this.start(deadline);
      this.phase = 'open';
    } catch (err) {
      await this.teardown();
      this.phase = 'new';
      if (isRaftError(err)) throw err;
      throw new RaftError('UNREACHABLE', `open: ${(err as Error)?.message ?? err}`, { cause: err });
    }
  }

  private async start(deadline: number): Promise<void> {
    const { raft, existing } = await this.startNode(deadline);
    this.membership.committed(raft.getCommittedConfiguration().configuration);
    raft.on('configurationCommitted', ({ configuration }) => this.membership.committed(configuration));
    const setting = (key: string) => this.fsm.setting(key);
    this.chores = startMemberChores(raft, this.options, this.clock, setting);
    await enterGroup({
      raft,
      storage: this.storage as RaftStorage,
      options: this.options,
      existing,
      deadline,
      clock: this.clock,
      isMember: (id) => this.membership.current.has(id),
      setting,
      propose: (input, timeoutMs) => this.propose(raft, input, { timeoutMs }),
    });
  }

  /** Opens the store, settles the group id, and starts the node on its transport (node-parts.ts). */
  private async startNode(deadline: number): Promise<{ raft: Raft; existing: boolean }> {
    const o = this.options;
    const started = await startMemberNode({
      options: o,
      parts: this.parts,
      fsm: this.fsm,
      clock: this.clock,
      deadline,
      opened: (storage) => {
        this.storage = storage;
      },
      connected: (transport) => {
        this.transport = transport;
      },
    });
    this.raft = started.raft;
    if (o.metrics !== undefined) this.stopMetrics = observeMember(o.metrics, started.raft, started.transport);
    return { raft: started.raft, existing: started.existing };
  }

  /** The group's voter budget from the replicated settings, or null when it has none. */
  voterBudget(): number | null {
    return decodeBudget(this.fsm.setting(VOTERS_SETTING));
  }

  /**
   * Sets the group's voter budget (1 to 15) in the replicated state: from then on the leader
   * promotes eligible non-voters while voters are missing and replaces voters lost for
   * `voterLossTimeout`. Voters beyond a lowered budget stay until they are lost or demoted.
   */
  async setVoterBudget(voters: number, options: ProposeOptions = {}): Promise<{ index: number }> {
    checkTimeout('setVoterBudget', options.timeoutMs);
    return this.propose(this.openRaft(), budgetInput(voters), options);
  }

  /**
   * Leaves the group: a leader hands over leadership first, then the member asks to be removed,
   * all within `closeTimeout`. With `leave: false` it only stops (a restart, not a departure: it
   * stays a member and catches up when opened again). Storage is kept; observers end; later calls
   * fail with `SHUTDOWN`.
   */
  async close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.phase === 'closed' || this.phase === 'closing' || this.phase === 'new') {
      this.phase = this.phase === 'new' ? 'closed' : this.phase;
      return;
    }
    this.phase = 'closing';
    const raft = this.raft as Raft;
    const deadline = this.clock.now() + this.options.closeTimeout;
    const others = [...this.membership.current].filter((m) => m !== this.id);
    try {
      if (options.leave !== false && others.length > 0 && !this.removed()) {
        await leaveGroup({ raft, storage: this.storage, id: this.id, deadline, clock: this.clock });
      }
    } catch {
      // Leaving is best effort within closeTimeout: the group carries on without us either way.
    } finally {
      await this.teardown();
      this.phase = 'closed';
    }
  }

  /**
   * Proposes `input` from this member (forwarded to the leader when needed). Resolves once it is
   * committed and applied on the leader, with the index it was applied at. The node re-sends it
   * (to a new leader, after a lost answer) until the deadline: each proposal carries this
   * binding's session and a sequence number, and the replicated state applies it once.
   *
   * @throws RaftError `INVALID_INPUT` for a bad input or option; an indefinite error when the
   * outcome is unknown; `EXPIRED` when the group refused it for good (it was not applied).
   */
  async proposeInput(input: Input, options: ProposeOptions = {}): Promise<{ index: number }> {
    checkTimeout('proposeInput', options.timeoutMs);
    return this.propose(this.openRaft(), parseInput(input), options);
  }

  /** Proposes `input` under this binding's session, so that re-sends apply once. */
  private async propose(raft: Raft, input: EntryInput, options: ProposeOptions): Promise<{ index: number }> {
    const ticket = this.sessions.issue();
    try {
      const data = encodeProposal({
        member: ticket.session,
        seq: ticket.seq,
        ack: ticket.ack,
        input,
      });
      const timeoutMs = options.timeoutMs ?? this.options.rpcTimeout;
      const { index, response } = await raft.apply(data, {
        timeoutMs,
        idempotent: true,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      if ((response as ApplyResult | undefined)?.outcome === 'expired') {
        throw new RaftError(
          'EXPIRED',
          `proposeInput: the group refused seq ${ticket.seq} for good; not applied`,
        );
      }
      return { index };
    } finally {
      ticket.finish();
    }
  }

  /** Replays the current state (one `set` per key, sorted), then every change once, in log order. */
  observeStateChange(options: { signal?: AbortSignal } = {}): AsyncIterable<Input> {
    if (this.phase !== 'open') return failing(this.shutdownError());
    return this.fsm.observe(options.signal);
  }

  /** Replays the current members (`joined: true`), then every committed change once, in order. */
  observeMembershipChange(options: { signal?: AbortSignal } = {}): AsyncIterable<MembershipChange> {
    if (this.phase !== 'open') return failing(this.shutdownError());
    return this.membership.observe(options.signal);
  }

  /** The whole state. `linearizable` first waits until every write committed before the call is applied here. */
  async getState(options: { consistency?: Consistency } = {}): Promise<Map<string, Uint8Array>> {
    await this.readPoint('getState', options.consistency);
    return this.fsm.entries();
  }

  /** {@link getState} with the log index the state reflects, read at the same instant (a consistent backup). */
  async getIndexedState(options: { consistency?: Consistency } = {}): Promise<StateCapture> {
    await this.readPoint('getState', options.consistency);
    return this.fsm.capture();
  }

  /** {@link observeStateChange} with log indexes, or resumed after `fromIndex` ({@link RaftFsm.observeIndexed}). */
  observeIndexedStateChange(options: IndexedObserveOptions = {}): StateObservation {
    this.running();
    return this.fsm.observeIndexed(options);
  }

  /** One key's value, or undefined. */
  async get(key: string, options: { consistency?: Consistency } = {}): Promise<Uint8Array | undefined> {
    await this.readPoint('get', options.consistency);
    return this.fsm.get(key);
  }

  /** Waits until a read in `consistency` may be served from the local state. */
  private async readPoint(what: string, consistency: unknown): Promise<void> {
    const raft = this.openRaft();
    if (consistency === undefined || consistency === 'local') return;
    if (consistency !== 'linearizable') {
      throw new RaftError('INVALID_INPUT', `${what}: consistency must be 'local' or 'linearizable'`);
    }
    await raft.readIndex({ timeoutMs: this.options.rpcTimeout });
  }

  /**
   * This member's view. `role` is the Raft role; `removed` once a committed configuration no
   * longer lists this member (it then stays quiet; open a new binding to join again); `stopped`
   * once a local failure stopped it (`stopCause` says which; close it and open it again).
   */
  status(): BindingStatus {
    const raft = this.running();
    const stats = raft.stats();
    const failure = raft.failure();
    return {
      ...(failure === null ? {} : { stopCause: failure.message }),
      id: this.id,
      role: failure !== null ? 'stopped' : this.removed() ? 'removed' : stats.state,
      leader: stats.leader,
      term: stats.term,
      commitIndex: stats.commitIndex,
      appliedIndex: stats.appliedIndex,
      members: raft
        .getCommittedConfiguration()
        .configuration.servers.map((s) => ({ id: s.id, suffrage: s.suffrage })),
    };
  }

  /**
   * The members of the latest configuration, in id order: role (`voter`, `nonvoter`, `staging`),
   * whether it leads, and its health (last contact, match index, lag), known on the leader only.
   */
  members(): MemberInfo[] {
    return this.admin.list();
  }

  /**
   * Removes member `id`, live or dead, from any member (forwarded to the leader). Refused with
   * `INVALID_INPUT` for a non-member, this member itself, the last voter, and (on the leader)
   * when the voters left would lack a live majority unless `force`. `warnings` says when the group
   * is left without fault tolerance.
   */
  removeMember(id: string, options: RemoveMemberOptions = {}): Promise<MemberChangeResult> {
    return this.admin.remove(id, options);
  }

  /** Adds `id` as a non-voter (it receives the log, never votes). */
  addNonvoter(id: string, options: MemberCallOptions = {}): Promise<MemberChangeResult> {
    return this.admin.addNonvoter(id, options);
  }

  /** Makes non-voter `id` a voter once it has caught up (it stages until then). */
  promote(id: string, options: MemberCallOptions = {}): Promise<MemberChangeResult> {
    return this.admin.promote(id, options);
  }

  /** Makes voter `id` a non-voter, with the guard rails of {@link removeMember}. */
  demote(id: string, options: RemoveMemberOptions = {}): Promise<MemberChangeResult> {
    return this.admin.demote(id, options);
  }

  /**
   * On the leader, hands leadership to voter `id`, or to the most up-to-date voter; resolves with
   * the new leader (null if none is known by the deadline). Elsewhere fails with `NOT_LEADER`.
   */
  transferLeadership(id?: string, options: MemberCallOptions = {}): Promise<{ leader: string | null }> {
    return this.admin.transferLeadership(id, options);
  }

  /**
   * The MQTT transport's counters: messages sent and received, and drops by reason (forgeries,
   * replays and retained messages among them; docs/protocol.md §10).
   */
  transportStats(): MqttTransportStats {
    this.running();
    if (!(this.transport instanceof MqttTransport)) {
      throw new RaftError('UNSUPPORTED', 'transportStats: the binding runs on a transport of its own');
    }
    return this.transport.stats;
  }

  /**
   * The Raft node's counters, for monitoring: positions in the log, pending proposals, Readies
   * handled, and entries and synced batches persisted (their ratio is the group-commit factor).
   */
  raftStats(): RaftStats {
    return this.running().stats();
  }

  private async teardown(): Promise<void> {
    for (const chore of this.chores) chore.stop();
    this.chores = [];
    this.fsm.closeObservers();
    this.membership.close();
    this.stopMetrics();
    await this.raft?.shutdown().catch(() => undefined);
    this.raft = null;
    await this.storage?.close().catch(() => undefined);
    this.storage = null;
  }

  private openRaft(): Raft {
    const raft = this.running();
    if (this.removed()) {
      throw new RaftError(
        'REMOVED',
        `member ${this.id} was removed from the group; open a new binding to join it again`,
      );
    }
    return raft;
  }

  private running(): Raft {
    if (this.phase !== 'open' || this.raft === null) throw this.shutdownError();
    return this.raft;
  }

  /**
   * True once the committed configuration and the newest one in the log both leave this member
   * out: a replayed old removal followed by a re-join is not a removal.
   */
  private removed(): boolean {
    const raft = this.raft;
    if (this.phase !== 'open' || raft === null || this.membership.current.has(this.id)) return false;
    return !membersOf(raft.getConfiguration().configuration).has(this.id);
  }

  private shutdownError(): RaftError {
    return new RaftError(
      'SHUTDOWN',
      `binding ${this.id} is ${this.phase === 'new' ? 'not open' : this.phase}`,
    );
  }
}

/** An async iterable that rejects at once. */
function failing<T>(err: Error): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }),
  };
}

/** Reports `raft`, and `transport` when it is an MQTT one, into `metrics`; returns the stop function. */
function observeMember(metrics: RaftMetrics, raft: Raft, transport: Transport): () => void {
  return metrics.observe(transport instanceof MqttTransport ? { raft, transport } : { raft });
}
