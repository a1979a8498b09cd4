import { isVoter } from '../core/configuration.js';
import type { Configuration } from '../core/types.js';
import { isRaftError, RaftError } from '../errors.js';
import { Raft } from '../node/raft.js';
import type { RaftStats } from '../node/stats.js';
import { checkTimeout } from '../retry.js';
import { RaftStore } from '../storage/raft-store.js';
import { type MqttTransportOptions, resolveOptions } from '../transport/mqtt-options.js';
import { MqttTransport } from '../transport/mqtt-transport.js';
import { type Input, parseInput } from './input.js';
import { type MembershipChange, membershipDiff, membersOf } from './membership-observer.js';
import { ObserverQueue } from './observer-queue.js';
import { type BindingOptions, parseBindingOptions, type ResolvedBindingOptions } from './options.js';
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
  private readonly sessions = new ProposalSessions();
  private phase: 'new' | 'opening' | 'open' | 'closing' | 'closed' = 'new';
  private raft: Raft | null = null;
  private storage: RaftStore | null = null;
  private members = new Set<string>();
  private readonly membershipObservers = new Set<ObserverQueue<MembershipChange>>();

  constructor(options: BindingOptions) {
    this.options = parseBindingOptions(options);
    // The transport's own checks (the broker URL's scheme, the id's characters, TLS material) run
    // here, so a mistake is reported before open() creates anything on disk.
    resolveOptions(this.transportOptions(this.options.startupTimeout));
    this.id = this.options.id;
    this.fsm = new RaftFsm({ observerQueueLimit: this.options.observerQueueLimit });
  }

  /**
   * Starts the member: with `bootstrap` on a fresh store it creates the group; on a store with
   * state it restarts; otherwise it asks the group (through the leader) to add it, and resolves
   * once it is a member. Fails after `startupTimeout`, leaving nothing running.
   */
  async open(): Promise<void> {
    if (this.phase !== 'new') throw new RaftError('INVALID_INPUT', `open: the binding is ${this.phase}`);
    this.phase = 'opening';
    const deadline = Date.now() + this.options.startupTimeout;
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
    const transport = new MqttTransport(this.transportOptions(Math.max(1, deadline - Date.now())));
    this.storage = await RaftStore.open(o.store);
    const existing = await Raft.hasExistingState(this.storage);
    if (!existing && o.bootstrap) {
      await Raft.bootstrapCluster(this.storage, { servers: [{ id: o.id, suffrage: 'voter' }] });
    }
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
      storage: this.storage,
      transport,
    });
    const raft = this.raft;
    this.members = membersOf(raft.getCommittedConfiguration().configuration);
    raft.on('configurationCommitted', ({ configuration }) => this.membershipCommitted(configuration));
    // A new group elects its only member at once: wait, so proposals right after open() work.
    if (!existing && o.bootstrap)
      await this.until(() => raft.state() === 'leader', deadline, 'the first election');
    // A fresh member, or one that left the group on close(), joins through the leader.
    if (!isVoter(raft.getConfiguration().configuration, o.id)) {
      await raft.addVoter(o.id, { timeoutMs: Math.max(1, deadline - Date.now()) });
      await this.until(() => this.members.has(o.id), deadline, 'the join to be applied here');
    }
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
    return options;
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
    const deadline = Date.now() + this.options.closeTimeout;
    const others = [...this.members].filter((m) => m !== this.id);
    try {
      if (options.leave !== false && others.length > 0) {
        if (raft.state() === 'leader') {
          await raft
            .leadershipTransfer(undefined, { timeoutMs: Math.max(1, deadline - Date.now()) })
            .catch(() => undefined);
        }
        await raft.removeServer(this.id, { timeoutMs: Math.max(1, deadline - Date.now()) });
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

  status(): BindingStatus {
    const raft = this.openRaft();
    const stats = raft.stats();
    return {
      id: this.id,
      role: stats.state,
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
   * The Raft node's counters, for monitoring: positions in the log, pending proposals, Readies
   * handled, and entries and synced batches persisted (their ratio is the group-commit factor).
   */
  raftStats(): RaftStats {
    return this.openRaft().stats();
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
      if (Date.now() >= deadline) throw new RaftError('TIMEOUT', `open: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private openRaft(): Raft {
    if (this.phase !== 'open' || this.raft === null) throw this.shutdownError();
    return this.raft;
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
