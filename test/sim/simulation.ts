import { type CoreOptions, type Message, RaftCore, seededRandom } from '../../src/core/index.js';
import type { MemStorage } from '../support/storage.js';
import { FaultInjector, type FaultRates } from './faults.js';
import { InvariantMonitor, type Violation } from './monitor.js';
import { SimNetwork } from './network.js';
import { type CoreFactory, type CrashPoint, SimNode } from './node.js';
import { Trace } from './trace.js';

/** Builds a core; tests substitute deliberately broken cores to prove the simulation catches them. */
export type SimCoreFactory = (options: CoreOptions, storage: MemStorage) => RaftCore;

/** What one simulated run does. */
export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Ticks of random faults and proposals before everything heals. Default 1500. */
  readonly faultTicks?: number;
  /**
   * The liveness bound: after the heal, within this many ticks a leader must be elected and an
   * entry it proposes must be applied on every server. Default 40 election timeouts.
   */
  readonly livenessTicks?: number;
  readonly coreFactory?: SimCoreFactory;
  /** Core options that replace the seed's random choice (for targeted runs). */
  readonly coreOverrides?: Partial<Omit<CoreOptions, 'id' | 'random'>>;
}

/** Counters of what the run did, so a report can say how often each fault fired. */
export interface SimStats {
  ticks: number;
  proposals: number;
  accepted: number;
  committedProposals: number;
  leadersElected: number;
  crashes: number;
  crashPoints: Record<CrashPoint, number>;
  partitions: Record<string, number>;
  messagesSent: number;
  messagesDropped: number;
  messagesDuplicated: number;
  messagesBlocked: number;
  /** Ticks from the heal until the liveness check passed. */
  recoveryTicks: number;
}

/** The outcome of one run. */
export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly violations: readonly Violation[];
  readonly trace: readonly string[];
  readonly stats: SimStats;
}

const ELECTION_TICKS = 10;
const encoder = new TextEncoder();

interface Proposal {
  readonly index: number;
  readonly term: number;
  readonly identity: string;
}

/**
 * One deterministic run of a simulated cluster: a fault phase (seeded network faults, partitions,
 * crashes at arbitrary points of the Ready cycle, random proposals) followed by a heal phase that
 * checks liveness. Every observable step is checked by the {@link InvariantMonitor}.
 */
export class Simulation {
  private readonly random;
  private readonly ids: string[];
  private readonly nodes: SimNode[];
  private readonly network: SimNetwork;
  private readonly monitor: InvariantMonitor;
  private readonly faults: FaultInjector;
  private readonly trace = new Trace(80);
  private readonly proposals: Proposal[] = [];
  private readonly stats: SimStats;
  private readonly faultTicks: number;
  private readonly livenessTicks: number;
  private readonly proposeRate: number;
  private now = 0;
  private proposalSeq = 0;
  private marker: Proposal | null = null;

  constructor(private readonly options: SimOptions) {
    this.random = seededRandom(options.seed);
    this.faultTicks = options.faultTicks ?? 1500;
    this.livenessTicks = options.livenessTicks ?? 40 * ELECTION_TICKS;
    this.ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    const r = this.random;
    const rates: FaultRates = {
      crash: 0.001 + r.float() * 0.006,
      crashPoint: 0.0005 + r.float() * 0.003,
      partition: 0.003 + r.float() * 0.012,
    };
    this.network = new SimNetwork(r, {
      dropRate: r.float() < 0.3 ? 0 : r.float() * 0.3,
      duplicateRate: r.float() < 0.3 ? 0 : r.float() * 0.2,
      maxDelay: 1 + r.int(5),
    });
    this.proposeRate = 0.05 + r.float() * 0.5;
    const preVote = r.float() < 0.85;
    const checkQuorum = r.float() < 0.85;
    const maxInflight = 1 + r.int(8);
    const maxEntriesPerMessage = 1 + r.int(8);
    this.faults = new FaultInjector(r, this.ids, this.network, rates);
    this.monitor = new InvariantMonitor(this.ids);
    this.stats = {
      ticks: 0,
      proposals: 0,
      accepted: 0,
      committedProposals: 0,
      leadersElected: 0,
      crashes: 0,
      crashPoints: { beforePersist: 0, beforeSend: 0, beforeApply: 0 },
      partitions: this.faults.counts,
      messagesSent: 0,
      messagesDropped: 0,
      messagesDuplicated: 0,
      messagesBlocked: 0,
      recoveryTicks: -1,
    };
    const config = { servers: this.ids.map((id) => ({ id, suffrage: 'voter' as const })) };
    const build =
      options.coreFactory ?? ((o: CoreOptions, s: MemStorage) => new RaftCore(o, s.initialState()));
    const makeCore: CoreFactory = (id, storage, restarts) =>
      build(
        {
          id,
          random: seededRandom(options.seed * 7919 + this.ids.indexOf(id) * 104729 + restarts),
          electionTicks: ELECTION_TICKS,
          heartbeatTicks: 1,
          preVote,
          checkQuorum,
          maxInflight,
          maxEntriesPerMessage,
          ...options.coreOverrides,
        },
        storage,
      );
    this.nodes = this.ids.map((id) => new SimNode(id, config, makeCore));
    this.trace.add(0, 'config', {
      preVote,
      checkQuorum,
      maxInflight,
      maxEntriesPerMessage,
      ...this.network.faults,
      rates,
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
      if (this.now < this.faultTicks && this.random.float() < this.proposeRate) this.proposeAnywhere();
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

  private heal(): void {
    this.network.healAll();
    this.network.faults = { dropRate: 0, duplicateRate: 0, maxDelay: 2 };
    for (const node of this.nodes) if (!node.up) node.restartAt = this.now;
    this.trace.add(this.now, 'heal', {});
  }

  private crash(node: SimNode, why: string): void {
    node.crash(this.now + 1 + this.random.int(10 * ELECTION_TICKS));
    this.network.dropTo(node.id);
    this.stats.crashes++;
    this.trace.add(this.now, 'crash', { node: node.id, why });
  }

  private restartDueNodes(): void {
    for (const node of this.nodes) {
      if (node.up || node.restartAt > this.now) continue;
      node.restart();
      this.monitor.onRestart(node.id, node.storage.snapshot.index);
      this.trace.add(this.now, 'restart', { node: node.id });
    }
  }

  private deliverMessages(): void {
    for (const m of this.network.due(this.now)) {
      const target = this.nodes[this.ids.indexOf(m.to)];
      if (target?.core == null) continue;
      this.trace.add(this.now, 'deliver', m);
      target.core.step(m);
    }
  }

  private proposeAnywhere(): void {
    const up = this.nodes.filter((n) => n.up);
    const node = up[this.random.int(up.length)];
    if (node?.core == null) return;
    this.stats.proposals++;
    const data = `${node.id}#${++this.proposalSeq}`;
    let result = node.core.propose(encoder.encode(data));
    // Half the clients forward to the leader the server named, as the runtime's forwarding does.
    const hinted = result.accepted ? undefined : this.nodes[this.ids.indexOf(result.leader ?? '')];
    if (hinted?.core != null && this.random.float() < 0.5) result = hinted.core.propose(encoder.encode(data));
    if (result.accepted) {
      this.stats.accepted++;
      this.proposals.push({
        index: result.index,
        term: result.term,
        identity: `${result.term}/command/${data}`,
      });
    }
  }

  private processReadies(): void {
    for (const node of this.nodes) {
      for (let round = 0; round < 3 && node.up; round++) {
        const crashAt = this.pickCrashPoint();
        const outcome = node.processReady(crashAt);
        if (outcome === null) break;
        const { ready } = outcome;
        if (outcome.persisted) {
          this.monitor.onPersist(node.id, ready.hardState, ready.entries);
          if (ready.hardState !== null) this.monitor.onCommit(node.id, ready.hardState.commit);
          if (ready.softState?.role === 'leader') {
            this.stats.leadersElected++;
            this.monitor.onLeader(node.id, node.core?.term ?? -1);
            this.trace.add(this.now, 'leader', { node: node.id, term: node.core?.term });
          }
        }
        for (const m of outcome.messages) this.network.send(m as Message, this.now);
        if (outcome.applied) this.monitor.onApply(node.id, ready.committedEntries);
        if (crashAt !== null) {
          this.stats.crashPoints[crashAt]++;
          this.crash(node, crashAt);
        }
      }
    }
  }

  private pickCrashPoint(): CrashPoint | null {
    if (this.now >= this.faultTicks || this.random.float() >= this.faults.rates.crashPoint) return null;
    const points: CrashPoint[] = ['beforePersist', 'beforeSend', 'beforeApply'];
    return points[this.random.int(points.length)] as CrashPoint;
  }

  /**
   * After the heal: once there is a leader, it proposes a marker; the check passes when the marker
   * is applied on every server and every proposal accepted in the leader's term is committed.
   */
  private checkLiveness(): boolean {
    const leader = this.nodes.find((n) => n.core?.role === 'leader');
    const core = leader?.core;
    if (core == null) return false;
    if (this.marker === null || this.marker.term !== core.term) {
      const data = `marker@${core.term}`;
      const result = core.propose(encoder.encode(data));
      if (result.accepted)
        this.marker = { index: result.index, term: result.term, identity: `${result.term}/command/${data}` };
      return false;
    }
    const marker = this.marker;
    if (this.monitor.committedAt(marker.index) !== marker.identity) return false;
    const everywhere = this.nodes.every(
      (n) => n.core !== null && n.core.status().appliedIndex >= marker.index,
    );
    if (!everywhere) return false;
    this.stats.recoveryTicks = this.now - this.faultTicks;
    for (const p of this.proposals) {
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
    this.stats.committedProposals = this.proposals.filter(
      (p) => this.monitor.committedAt(p.index) === p.identity,
    ).length;
  }

  private describe(): string {
    return this.nodes
      .map((n) => {
        const s = n.core?.status();
        return s === undefined
          ? `${n.id}:down`
          : `${n.id}:${s.role}@${s.term} commit=${s.commitIndex} last=${s.lastIndex}`;
      })
      .join(' ');
  }
}

/** Runs one seed. */
export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}
