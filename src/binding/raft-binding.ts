import { type Clock, sleep, systemClock } from '../clock.js';
import { isVoter } from '../core/configuration.js';
import type { Configuration } from '../core/types.js';
import { isRaftError, RaftError } from '../errors.js';
import { Raft } from '../node/raft.js';
import type { RaftStats } from '../node/stats.js';
import { checkTimeout } from '../retry.js';
import { RaftStore } from '../storage/raft-store.js';
import type { RaftStorage } from '../storage/types.js';
import { groupKeysFromEnv } from '../transport/group-key.js';
import { type MqttTransportOptions, resolveOptions } from '../transport/mqtt-options.js';
import type { MqttTransportStats } from '../transport/mqtt-stats.js';
import { MqttTransport } from '../transport/mqtt-transport.js';
import type { Transport } from '../transport/types.js';
import { settleGroup } from './group-identity.js';
import { type Input, parseInput } from './input.js';
import { type MembershipChange, membershipDiff, membersOf } from './membership-observer.js';
import { ObserverQueue } from './observer-queue.js';
import { type BindingOptions, parseBindingOptions, type ResolvedBindingOptions } from './options.js';
import type { BindingParts } from './parts.js';
import { encodeProposal } from './proposal.js';
import { ProposalSessions } from './proposal-sessions.js';
import { type ApplyResult, RaftFsm } from './raft-fsm.js';

/** Per-call limits of binding operations. */
export interface ProposeOptions {
  signal?: AbortSignal;
  /** Give up after this long; defaults to the binding's `rpcTimeout`. */
  timeoutMs?: number;
}

/** Read modes: `local` reads this member's state; `linearizable` first confirms it is up to date. */
export type Consistency = 'local' | 'linearizable';

/** A member's view of itself and the group. */
export interface BindingStatus {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: ReadonlyArray<{ id: string; suffrage: string }>;
}

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
  private members = new Set<string>();
  private readonly membershipObservers = new Set<ObserverQueue<MembershipChange>>();

  private readonly clock: Clock;

  /** `parts` replaces the store, transport, clock or randomness the binding would make itself. */
  constructor(
    options: BindingOptions,
    private readonly parts: BindingParts = {},
  ) {
    this.clock = parts.clock ?? systemClock;
    this.options = parseBindingOptions(options);
    // The transport's own checks (the broker URL's scheme, the id's characters, TLS material) run
    // here, so a mistake is reported before open() creates anything on disk.
    resolveOptions(this.transportOptions(this.options.startupTimeout));
    this.id = this.options.id;
    this.fsm = new RaftFsm({ observerQueueLimit: this.options.observerQueueLimit });
    this.sessions = new ProposalSessions(parts.randomBytes);
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
    const o = this.options;
    this.storage = await (this.parts.openStorage?.() ?? RaftStore.open(o.store));
    const storage = this.storage;
    const existing = await Raft.hasExistingState(storage);
    const transportOptions = this.transportOptions(Math.max(1, deadline - this.clock.now()));
    const custom = this.parts.createTransport;
    const group =
      custom !== undefined
        ? ''
        : await settleGroup({
            id: o.id,
            broker: o.broker,
            cluster: o.cluster,
            storage,
            existing,
            bootstrap: o.bootstrap,
            deadline,
            clock: this.clock,
            probe: (g) => MqttTransport.probeCluster({ ...transportOptions, group: g }, o.probeTimeout),
            logger: o.logger,
            ...(this.parts.randomBytes === undefined ? {} : { randomBytes: this.parts.randomBytes }),
          });
    if (!existing && o.bootstrap) {
      await Raft.bootstrapCluster(storage, { servers: [{ id: o.id, suffrage: 'voter' }] });
    }
    const transport = custom?.() ?? new MqttTransport({ ...transportOptions, group });
    this.transport = transport;
    this.raft = await Raft.start({
      config: {
        localId: o.id,
        heartbeatTimeout: o.heartbeatTimeout,
        electionTimeout: o.electionTimeout,
        leaderLeaseTimeout: Math.max(5, Math.floor(o.heartbeatTimeout / 2)),
        snapshotInterval: o.snapshotInterval,
        snapshotThreshold: o.snapshotThreshold,
        trailingLogs: o.trailingLogs,
      },
      fsm: this.fsm,
      storage,
      transport,
      clock: this.clock,
      // A fresh member may be a wiped one the group still lists: deaf until its old self is removed.
      listening: existing || o.bootstrap,
      ...(this.parts.random === undefined ? {} : { random: this.parts.random }),
      ...(this.parts.randomBytes === undefined ? {} : { randomBytes: this.parts.randomBytes }),
    });
    const raft = this.raft;
    this.members = membersOf(raft.getCommittedConfiguration().configuration);
    raft.on('configurationCommitted', ({ configuration }) => this.membershipCommitted(configuration));
    // A new group elects its only member at once: wait, so proposals right after open() work.
    if (!existing && o.bootstrap)
      await this.until(() => raft.state() === 'leader', deadline, 'the first election');
    await this.joinIfOutside(raft, existing, deadline);
  }

  /**
   * Joins through the leader when this member is not a voter of the group: a fresh member; one
   * that left or was leaving (its store records the removal, or a lower bound of its index, though
   * its log may still list it as a voter); one whose log shows it removed. A fresh member with an id the group still lists (its store was
   * wiped) is removed first: the leader's record of what that id holds is false now, and a server
   * that lost its stable storage must come back as a new one (Raft thesis §3.8, §4.2.1).
   */
  private async joinIfOutside(raft: Raft, existing: boolean, deadline: number): Promise<void> {
    const o = this.options;
    const storage = this.storage as RaftStorage;
    const removedAt = await Raft.removalIndex(storage);
    const fresh = !existing && !o.bootstrap;
    const latest = raft.getConfiguration();
    if (!fresh && removedAt === 0 && isVoter(latest.configuration, o.id)) return;
    // The join shows as a committed configuration listing us that is newer than what removed us;
    // an older one (replayed from our own log) proves nothing.
    const newerThan = Math.max(removedAt, fresh ? 0 : latest.index + 1);
    const timeoutMs = () => Math.max(1, deadline - this.clock.now());
    if (fresh || removedAt !== 0) {
      // After a wipe, or a leave whose outcome a crash may have cut short, our removal is made
      // definite first, so the join starts from a group without our old self.
      await raft.removeServer(o.id, { timeoutMs: timeoutMs() });
      // The group no longer counts on what our old self acknowledged: we may vote and replicate.
      raft.listen();
    }
    const { index } = await raft.addVoter(o.id, { timeoutMs: timeoutMs() });
    await this.until(
      () => raft.getCommittedConfiguration().index >= Math.max(index, newerThan) && this.members.has(o.id),
      deadline,
      'the join to be applied here',
    );
    if (removedAt !== 0) await Raft.recordRemoval(storage, 0);
  }

  private transportOptions(connectTimeoutMs: number): MqttTransportOptions {
    const o = this.options;
    const options: MqttTransportOptions = {
      localId: o.id,
      url: o.broker,
      cluster: o.cluster,
      connectTimeoutMs,
    };
    if (o.username !== undefined) options.username = o.username;
    if (o.password !== undefined) options.password = o.password;
    if (o.tls !== undefined) options.tls = o.tls;
    if (o.logger !== undefined) options.logger = o.logger;
    return { ...options, ...groupKeyOptions(o) };
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
    const others = [...this.members].filter((m) => m !== this.id);
    try {
      if (options.leave !== false && others.length > 0 && !this.removed()) {
        if (raft.state() === 'leader') {
          await raft
            .leadershipTransfer(undefined, { timeoutMs: Math.max(1, deadline - this.clock.now()) })
            .catch(() => undefined);
        }
        // A crash after our removal commits and before the record below would bring us back as a
        // voter the group no longer has, waiting forever for a leader: record first that we are
        // leaving, with a lower bound of the removal's index (it lands above everything committed
        // now), so that a restart rejoins.
        if (this.storage !== null) await Raft.recordRemoval(this.storage, raft.stats().commitIndex + 1);
        const { index } = await raft.removeServer(this.id, {
          timeoutMs: Math.max(1, deadline - this.clock.now()),
        });
        // The leader stops sending to us once it appends our removal, so our log may never hold
        // it: record it, or a restart would campaign on the old configuration instead of rejoining.
        if (this.storage !== null) await Raft.recordRemoval(this.storage, index);
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
    const raft = this.openRaft();
    checkTimeout('proposeInput', options.timeoutMs);
    const parsed = parseInput(input);
    const ticket = this.sessions.issue();
    try {
      const data = encodeProposal({
        member: ticket.session,
        seq: ticket.seq,
        ack: ticket.ack,
        input: parsed,
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
    const queue = new ObserverQueue<MembershipChange>({
      limit: this.options.observerQueueLimit,
      replay: [...this.members].sort().map((id) => ({ id, joined: true })),
      onDetach: (q) => this.membershipObservers.delete(q),
      signal: options.signal,
      what: 'membership observer',
    });
    if (!queue.isDetached) this.membershipObservers.add(queue);
    return queue;
  }

  /** The whole state. `linearizable` first waits until every write committed before the call is applied here. */
  async getState(options: { consistency?: Consistency } = {}): Promise<Map<string, Uint8Array>> {
    await this.readPoint('getState', options.consistency);
    return this.fsm.entries();
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
   * This member's view. `role` is the Raft role, or `removed` once a committed configuration
   * no longer lists this member (it then stays quiet; open a new binding to join again).
   */
  status(): BindingStatus {
    const raft = this.running();
    const stats = raft.stats();
    return {
      id: this.id,
      role: this.removed() ? 'removed' : stats.state,
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

  private membershipCommitted(configuration: Configuration): void {
    const next = membersOf(configuration);
    const changes = membershipDiff(this.members, next);
    this.members = next;
    for (const queue of [...this.membershipObservers]) for (const change of changes) queue.push(change);
  }

  private async teardown(): Promise<void> {
    this.fsm.closeObservers();
    for (const queue of [...this.membershipObservers]) queue.close();
    await this.raft?.shutdown().catch(() => undefined);
    this.raft = null;
    await this.storage?.close().catch(() => undefined);
    this.storage = null;
  }

  private async until(condition: () => boolean, deadline: number, what: string): Promise<void> {
    while (!condition()) {
      if (this.clock.now() >= deadline) throw new RaftError('TIMEOUT', `open: timed out waiting for ${what}`);
      await sleep(this.clock, 10);
    }
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
    if (this.phase !== 'open' || raft === null || this.members.has(this.id)) return false;
    return !membersOf(raft.getConfiguration().configuration).has(this.id);
  }

  private shutdownError(): RaftError {
    return new RaftError(
      'SHUTDOWN',
      `binding ${this.id} is ${this.phase === 'new' ? 'not open' : this.phase}`,
    );
  }
}

/** The transport's key options: the binding's own, else `MQTT_RAFT_GROUP_KEY`, else none. */
function groupKeyOptions(
  o: ResolvedBindingOptions,
): Pick<MqttTransportOptions, 'groupKey' | 'previousGroupKeys'> {
  if (o.groupKey !== undefined) {
    return o.previousGroupKeys === undefined
      ? { groupKey: o.groupKey }
      : { groupKey: o.groupKey, previousGroupKeys: o.previousGroupKeys };
  }
  const [first, ...previous] = groupKeysFromEnv() ?? [];
  return first === undefined ? {} : { groupKey: first, previousGroupKeys: previous };
}

/** An async iterable that rejects at once. */
function failing<T>(err: Error): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(err) }),
  };
}
