import {
  type CoreOptions,
  decodeConfiguration,
  type HardState,
  RaftCore,
  type Ready,
  sameConfiguration,
  seededRandom,
  votersOf,
} from '../../src/core/index.js';
import { isMulticast, multicastFor } from '../../src/core/multicast.js';
import type { MemStorage } from '../support/storage.js';
import { FaultInjector, type FaultRates } from './faults.js';
import { InvariantMonitor, type Violation } from './monitor.js';
import { SimNetwork } from './network.js';
import { type CompletedWrite, type CoreFactory, type CrashPoint, SimNode, SnapshotLibrary } from './node.js';
import { Trace } from './trace.js';
import { type AcceptedProposal, Workload, type WorkloadCounts } from './workload.js';

/** Builds a core; tests substitute deliberately broken cores to prove the simulation catches them. */
export type SimCoreFactory = (options: CoreOptions, storage: MemStorage) => RaftCore;

/** What one simulated run does. */
export interface SimOptions {
  readonly seed: number;
  /** Voters of the initial configuration. */
  readonly nodes: number;
  /** Non-voters of the initial configuration (o1, o2, ...). Default 0. */
  readonly nonvoters?: number;
  /** Ticks of random faults and client operations before everything heals. Default 1500. */
  readonly faultTicks?: number;
  /**
   * The liveness bound: after the heal, within this many ticks a leader must be elected and an
   * entry it proposes must be applied on every member. Default 40 election timeouts.
   */
  readonly livenessTicks?: number;
  /** Membership changes, with two spare servers to add. Default true. */
  readonly membership?: boolean;
  /** Snapshots with a tiny threshold, so followers constantly install them. Default true. */
  readonly snapshots?: boolean;
  /** Leadership transfers. Default true. */
  readonly transfers?: boolean;
  /** ReadIndex reads. Default true. */
  readonly reads?: boolean;
  readonly coreFactory?: SimCoreFactory;
  /** Core options that replace the seed's random choice (for targeted runs). */
  readonly coreOverrides?: Partial<Omit<CoreOptions, 'id' | 'random'>>;
}

/** Counters of what the run did, so a report can say how often each fault fired. */
export interface SimStats {
  ticks: number;
  leadersElected: number;
  committedProposals: number;
  crashes: number;
  crashPoints: Record<CrashPoint, number>;
  partitions: Record<string, number>;
  snapshotsTaken: number;
  snapshotsInstalled: number;
  /** Writes of a leader's Readies that finished after the core had taken input again. */
  writesFinishedLater: number;
  workload: WorkloadCounts;
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  messagesBlocked: number;
  /** Publishes to the group topic, and the point-to-point messages they stood for. */
  multicasts: number;
  multicastRecipients: number;
  /** Ticks from the heal until the liveness check passed. */
  recoveryTicks: number;
}

/** The outcome of one run. */
export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly nonvoters: number;
  readonly violations: readonly Violation[];
  readonly trace: readonly string[];
  readonly stats: SimStats;
}

const ELECTION_TICKS = 10;
const encoder = new TextEncoder();

/** Per-tick probabilities of the client operations of one run. */
interface OperationRates {
  propose: number;
  membership: number;
  transfer: number;
  read: number;
}

/**
 * One deterministic run of a simulated cluster: a fault phase (seeded network faults, partitions,
 * crashes at arbitrary points of the Ready cycle, proposals, membership changes, transfers, reads
 * and snapshots) followed by a heal phase that checks liveness. Every observable step is checked
 * by the {@link InvariantMonitor}.
 */
export class Simulation {
  private readonly random;
  /**
   * Whether each Ready holds back a commit-only hard state, as the node's runtime does. A stream
   * of its own, so that the fault schedules drawn from `random` stay what they were for each seed.
   */
  private readonly holdCommitRandom;
  /** Whether a leader's Ready may leave its write running, and when such writes finish. */
  private readonly writesRandom;
  private readonly nodes: SimNode[];
  private readonly network: SimNetwork;
  private readonly monitor: InvariantMonitor;
  private readonly faults: FaultInjector;
  private readonly workload: Workload;
  private readonly trace = new Trace(80);
  private readonly stats: SimStats;
  private readonly faultTicks: number;
  private readonly livenessTicks: number;
  private readonly rates: OperationRates;
  private readonly snapshotThreshold: number;
  private readonly allowShrink: boolean;
  private now = 0;
  private marker: AcceptedProposal | null = null;

  constructor(private readonly options: SimOptions) {
    const r = seededRandom(options.seed);
    this.random = r;
    this.holdCommitRandom = seededRandom(options.seed * 31 + 17);
    this.writesRandom = seededRandom(options.seed * 37 + 29);
    this.faultTicks = options.faultTicks ?? 1500;
    this.livenessTicks = options.livenessTicks ?? 40 * ELECTION_TICKS;
    const members = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    const observers = Array.from({ length: options.nonvoters ?? 0 }, (_, i) => `o${i + 1}`);
    const spares = options.membership === false ? [] : ['s1', 's2'];
    const ids = [...members, ...observers, ...spares];
    const faultRates: FaultRates = {
      crash: 0.001 + r.float() * 0.006,
      crashPoint: 0.0005 + r.float() * 0.003,
      partition: 0.003 + r.float() * 0.012,
    };
    this.network = new SimNetwork(
      r,
      {
        dropRate: r.float() < 0.3 ? 0 : r.float() * 0.3,
        duplicateRate: r.float() < 0.3 ? 0 : r.float() * 0.2,
        maxDelay: 1 + r.int(5),
      },
      ids,
    );
    this.rates = {
      propose: 0.05 + r.float() * 0.5,
      membership: options.membership === false ? 0 : 0.002 + r.float() * 0.01,
      transfer: options.transfers === false ? 0 : r.float() * 0.006,
      read: options.reads === false ? 0 : r.float() * 0.1,
    };
    this.snapshotThreshold = options.snapshots === false ? Number.POSITIVE_INFINITY : 2 + r.int(20);
    const coreOptions = {
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: 1,
      preVote: r.float() < 0.85,
      checkQuorum: r.float() < 0.85,
      maxInflight: 1 + r.int(8),
      maxEntriesPerMessage: 1 + r.int(8),
      trailingEntries: r.int(5),
      maxPromotionLag: r.int(4),
      ...options.coreOverrides,
    };
    this.allowShrink = coreOptions.preVote || coreOptions.checkQuorum;
    this.faults = new FaultInjector(r, ids, this.network, faultRates);
    this.monitor = new InvariantMonitor(ids, members, [...members, ...observers]);
    const build =
      options.coreFactory ?? ((o: CoreOptions, s: MemStorage) => new RaftCore(o, s.initialState()));
    const makeCore: CoreFactory = (id, storage, restarts) =>
      build(
        {
          id,
          random: seededRandom(options.seed * 7919 + ids.indexOf(id) * 104729 + restarts),
          ...coreOptions,
        },
        storage,
      );
    const library = new SnapshotLibrary();
    const initial = {
      servers: [
        ...members.map((id) => ({ id, suffrage: 'voter' as const })),
        ...observers.map((id) => ({ id, suffrage: 'nonvoter' as const })),
      ],
    };
    const inInitial = (id: string) => initial.servers.some((s) => s.id === id);
    this.nodes = ids.map(
      (id) => new SimNode(id, inInitial(id) ? initial : { servers: [] }, makeCore, library),
    );
    this.workload = new Workload(r, this.nodes, this.monitor);
    this.stats = {
      ticks: 0,
      leadersElected: 0,
      committedProposals: 0,
      crashes: 0,
      crashPoints: { beforePersist: 0, beforeSend: 0, beforeApply: 0 },
      partitions: this.faults.counts,
      snapshotsTaken: 0,
      snapshotsInstalled: 0,
      writesFinishedLater: 0,
      workload: this.workload.counts,
      messagesSent: 0,
      messagesDropped: 0,
      messagesDuplicated: 0,
      messagesBlocked: 0,
      multicasts: 0,
      multicastRecipients: 0,
      recoveryTicks: -1,
    };
    this.trace.add(0, 'config', {
      nonvoters: observers,
      ...coreOptions,
      ...this.network.faults,
      faultRates,
      rates: this.rates,
    });
  }

  run(): SimResult {
    const end = this.faultTicks + this.livenessTicks;
    let healed = false;
    for (this.now = 1; this.now <= end && this.monitor.violations.length === 0; this.now++) {
      this.monitor.tick = this.now;
      if (this.now < this.faultTicks) {
        this.injectFaults();
      } else if (!healed) {
        healed = true;
        this.heal();
      }
      this.restartDueNodes();
      this.deliverMessages();
      for (const node of this.nodes) node.core?.tick();
      if (this.now < this.faultTicks) this.runClients();
      this.processReadies();
      if (healed && this.checkLiveness()) break;
    }
    this.stats.ticks = this.now;
    if (this.monitor.violations.length === 0 && this.stats.recoveryTicks < 0) {
      this.monitor.fail(
        'liveness',
        `no leader committed and applied everywhere within ${this.livenessTicks} ticks: ${this.describe()}`,
      );
    }
    this.finishStats();
    const failed = this.monitor.violations.length > 0;
    return {
      seed: this.options.seed,
      nodes: this.options.nodes,
      nonvoters: this.options.nonvoters ?? 0,
      violations: this.monitor.violations,
      trace: failed ? this.trace.format() : [],
      stats: this.stats,
    };
  }

  private injectFaults(): void {
    const event = this.faults.maybePartition(this.now);
    if (event !== null) this.trace.add(this.now, 'partition', event);
    for (const node of this.nodes) {
      if (node.up && this.random.float() < this.faults.rates.crash) this.crash(node, 'crash');
    }
  }

  private runClients(): void {
    const r = this.random;
    if (r.float() < this.rates.propose) this.workload.propose();
    if (r.float() < this.rates.read) this.workload.read();
    if (r.float() < this.rates.membership) this.traceOp(this.workload.changeMembership(this.allowShrink));
    if (r.float() < this.rates.transfer) this.traceOp(this.workload.transfer());
  }

  private traceOp(description: string | null): void {
    if (description !== null) this.trace.add(this.now, 'op', { description });
  }

  private heal(): void {
    this.network.healAll();
    this.network.faults = { dropRate: 0, duplicateRate: 0, maxDelay: 2 };
    for (const node of this.nodes) if (!node.up) node.restartAt = this.now;
    this.trace.add(this.now, 'heal', {});
  }

  private crash(node: SimNode, why: string): void {
    node.crash(this.now + 1 + this.random.int(10 * ELECTION_TICKS));
    this.network.dropTo(node.id);
    this.workload.forgetReadsOf(node.id);
    this.stats.crashes++;
    this.trace.add(this.now, 'crash', { node: node.id, why });
  }

  private restartDueNodes(): void {
    for (const node of this.nodes) {
      if (node.up || node.restartAt > this.now) continue;
      node.restart();
      this.monitor.onRestart(node.id, node.storage.snapshot.index);
      this.checkConfiguration(node);
      this.trace.add(this.now, 'restart', { node: node.id });
    }
  }

  /**
   * Steps what arrives. Every member receives each multicast; a recipient steps it as addressed
   * to itself (as the transport does), the others drop it unseen, so only the former are traced.
   */
  private deliverMessages(): void {
    for (const { to, out } of this.network.due(this.now)) {
      const target = this.nodes.find((n) => n.id === to);
      if (target?.core == null) continue;
      if (!isMulticast(out)) {
        this.trace.add(this.now, 'deliver', out);
        target.core.step(out);
        continue;
      }
      const m = multicastFor(to, out);
      if (m === null) continue;
      this.trace.add(this.now, 'multicast', { message: m, group: out.recipients });
      target.core.step(m);
    }
  }

  private processReadies(): void {
    for (const node of this.nodes) {
      for (let round = 0; round < 3 && node.up; round++) {
        if (!this.processReady(node)) break;
      }
    }
  }

  /** Runs one Ready of `node` and reports everything observable to the monitor. */
  private processReady(node: SimNode): boolean {
    // Writes a leader left running (RaftCore.accept) finish at a random later moment.
    if (this.writesRandom.float() < 0.5) this.reportWrites(node, node.completeWrites());
    const crashAt = this.pickCrashPoint();
    const outcome = node.processReady(
      crashAt,
      this.holdCommitRandom.float() < 0.5,
      this.writesRandom.float() < 0.5,
    );
    if (outcome === null) return false;
    this.reportWrites(node, outcome.completed);
    const { ready } = outcome;
    const monitor = this.monitor;
    if (outcome.persisted) {
      if (ready.snapshot !== null) {
        this.stats.snapshotsInstalled++;
        monitor.onSnapshotInstalled(node.id, ready.snapshot, node.stateHashOf(ready.snapshot));
      }
      this.reportPersist(node, ready, outcome.hardStateWritten);
    }
    if (!outcome.persisted && outcome.applied) {
      // Accepted with its write still running: the monitor learns the configuration the core
      // counted the commit under here rather than from the persist report.
      monitor.onConfiguration(node.id, votersOf(node.core?.configuration ?? { servers: [] }));
    }
    if (outcome.persisted || outcome.applied) {
      if (ready.hardState !== null) monitor.onCommit(node.id, ready.hardState.commit);
      if (ready.softState?.role === 'leader') {
        this.stats.leadersElected++;
        monitor.onLeader(node.id, node.core?.term ?? -1);
        this.trace.add(this.now, 'leader', { node: node.id, term: node.core?.term });
      }
    }
    this.network.sendAll(outcome.messages, this.now);
    if (crashAt !== null) {
      this.stats.crashPoints[crashAt]++;
      this.crash(node, crashAt);
      return false;
    }
    monitor.onApply(node.id, ready.committedEntries);
    monitor.onStateReached(node.id, node.appliedIndex, node.stateHash);
    this.workload.readsAnswered(node.id, ready.readStates);
    this.checkConfiguration(node);
    if (node.maybeSnapshot(this.snapshotThreshold) !== null) this.stats.snapshotsTaken++;
    return true;
  }

  private reportPersist(node: SimNode, ready: Ready, hardStateWritten: HardState | null): void {
    this.monitor.onPersist(
      node.id,
      hardStateWritten,
      ready.entries,
      votersOf(node.core?.configuration ?? { servers: [] }),
    );
  }

  /** Reports writes that finished, and sends the messages that waited for them. */
  private reportWrites(node: SimNode, writes: readonly CompletedWrite[]): void {
    for (const w of writes) {
      this.stats.writesFinishedLater++;
      this.reportPersist(node, w.ready, w.hardStateWritten);
      this.network.sendAll(w.messages, this.now);
    }
  }

  /**
   * A server's configuration is the newest one in its log (persisted, or being written), or its
   * snapshot's; and a leader never has more than one configuration change uncommitted (thesis §4.1).
   */
  private checkConfiguration(node: SimNode): void {
    const core = node.core;
    if (core === null) return;
    const { snapshot } = node.storage;
    const entries = [...node.storage.entries, ...node.entriesBeingWritten()];
    let implied = snapshot.config;
    let uncommitted = 0;
    for (const e of entries) {
      if (e.type !== 'config' || e.index <= snapshot.index) continue;
      implied = decodeConfiguration(e.data);
      if (e.index > core.status().commitIndex) uncommitted++;
    }
    if (!sameConfiguration(implied, core.configuration)) {
      this.monitor.fail(
        'configuration matches log',
        `${node.id} runs a configuration its log and snapshot do not imply`,
      );
    }
    if (core.role === 'leader' && uncommitted > 1) {
      this.monitor.fail(
        'one configuration change at a time',
        `leader ${node.id} has ${uncommitted} uncommitted changes`,
      );
    }
    this.monitor.onConfiguration(node.id, votersOf(core.configuration));
  }

  private pickCrashPoint(): CrashPoint | null {
    if (this.now >= this.faultTicks || this.random.float() >= this.faults.rates.crashPoint) return null;
    const points: CrashPoint[] = ['beforePersist', 'beforeSend', 'beforeApply'];
    return points[this.random.int(points.length)] as CrashPoint;
  }

  /**
   * After the heal: once there is a leader, it proposes a marker; the check passes when every
   * member of its configuration has applied the marker and every proposal accepted in the
   * leader's term is committed.
   */
  private checkLiveness(): boolean {
    const core = this.workload.leader();
    if (core === null) return false;
    if (this.marker === null || this.marker.term !== core.term) {
      const data = `marker@${core.term}`;
      const result = core.propose(encoder.encode(data));
      if (result.accepted)
        this.marker = { index: result.index, term: result.term, identity: `${result.term}/command/${data}` };
      return false;
    }
    const marker = this.marker;
    if (this.monitor.committedAt(marker.index) !== marker.identity) return false;
    const members = core.configuration.servers.map((s) => s.id);
    const everywhere = this.nodes
      .filter((n) => members.includes(n.id))
      .every((n) => n.core !== null && n.appliedIndex >= marker.index);
    if (!everywhere) return false;
    this.stats.recoveryTicks = this.now - this.faultTicks;
    for (const p of this.workload.accepted) {
      if (p.term === core.term && this.monitor.committedAt(p.index) !== p.identity) {
        this.monitor.fail(
          'liveness',
          `proposal at ${p.index} accepted in the current term ${p.term} never committed`,
        );
      }
    }
    return true;
  }

  private finishStats(): void {
    const net = this.network.stats;
    this.stats.messagesSent = net.sent;
    this.stats.messagesDropped = net.dropped;
    this.stats.messagesDuplicated = net.duplicated;
    this.stats.messagesBlocked = net.blocked;
    this.stats.multicasts = net.multicasts;
    this.stats.multicastRecipients = net.multicastRecipients;
    this.stats.committedProposals = this.workload.accepted.filter(
      (p) => this.monitor.committedAt(p.index) === p.identity,
    ).length;
  }

  private describe(): string {
    return this.nodes
      .map((n) => {
        const s = n.core?.status();
        return s === undefined
          ? `${n.id}:down`
          : `${n.id}:${s.role}@${s.term} commit=${s.commitIndex} last=${s.lastIndex} voters=${votersOf(s.configuration).join(',')}`;
      })
      .join(' ');
  }
}

/** Runs one seed. */
export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
