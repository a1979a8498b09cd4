import { seededRandom } from '../../src/core/random.js';
import type { Logger } from '../../src/logger.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { check } from '../jepsen/checker.js';
import { HistoryRecorder, type Op } from '../jepsen/history.js';
import { foldStream } from '../jepsen/streams.js';
import { Trace } from '../sim/trace.js';
import { type PlantedBug, plant } from './broken.js';
import { Clients } from './clients.js';
import { SimDisk } from './disk.js';
import type { LinkCounts, LinkFaults, LinkWorld } from './link.js';
import { StackNemesis } from './nemesis.js';
import { SimProcess, TIMINGS } from './process.js';
import { SimScheduler } from './scheduler.js';
import { type StackStats, statsOf } from './stats.js';

/** What one run of the stack simulation does. */
export interface StackSimOptions {
  readonly seed: number;
  /** Members of the group that join to vote: 3 or 5. */
  readonly members: number;
  /** Members that join as observers, after the others. Default 0. */
  readonly observers?: number;
  /** The group's voter budget: voting members beyond it join as non-voters. Default none. */
  readonly voters?: number;
  /** Simulated ms of faults and client load. Default 4000. */
  readonly faultMs?: number;
  /**
   * The liveness bound, in simulated ms after the heal: every member up, every call pending at the
   * heal answered, a new write through every member acknowledged, every key read linearizably on
   * every member, and all members converged. Default 30 election timeouts.
   */
  readonly boundMs?: number;
  /** Return the trace even when the run passed (a replay asked for it). */
  readonly keepTrace?: boolean;
  /** A bug to plant for this run (see broken.ts): the tests that prove the simulation can fail. */
  readonly bug?: PlantedBug;
}

/** The outcome of one run. */
export interface StackSimResult {
  readonly seed: number;
  readonly members: number;
  /** Every problem found, one line each; empty when the run passed. */
  readonly violations: readonly string[];
  /** The client history as JSON: the same seed gives the same bytes. */
  readonly history: string;
  /** The latest events, for a failing run's report. */
  readonly trace: readonly string[];
  readonly stats: StackStats;
}

const STEP_MS = 50;
const KEYS = ['k0', 'k1', 'k2'];

/**
 * One deterministic run of the whole stack: RaftBindings on memory-backed disks and the in-memory
 * network, all on one simulated clock. A quiet start forms the group; then a fault phase (process
 * faults, partitions, lossy links, clients on every member); then everything heals and the run
 * checks liveness within a bound and the history, streams and final states with the fault test's
 * checker.
 */
export class StackSimulation {
  private readonly scheduler = new SimScheduler();
  private readonly clock = this.scheduler.clock();
  private readonly network: InmemNetwork;
  private readonly processes: SimProcess[];
  private readonly recorder = new HistoryRecorder(() => this.scheduler.now);
  private readonly clients: Clients;
  private readonly nemesis: StackNemesis;
  private readonly faults: LinkFaults;
  private readonly linkCounts: LinkCounts = {
    duplicated: 0,
    forwardsLost: 0,
    answersLost: 0,
    forwardsDuplicated: 0,
  };
  private readonly trace = new Trace(200);
  private readonly problems: string[] = [];
  private readonly faultMs: number;
  private readonly boundMs: number;
  private readonly budgetChanges = { promoted: 0, demoted: 0 };
  private healed = false;
  private openFailures = 0;
  private recoveryMs = -1;

  constructor(private readonly options: StackSimOptions) {
    const r = seededRandom(options.seed);
    this.faultMs = options.faultMs ?? 4000;
    this.boundMs = options.boundMs ?? 30 * TIMINGS.electionTimeout;
    const netRandom = seededRandom(options.seed * 17 + 3);
    const maxDelay = 1 + r.int(20);
    this.network = new InmemNetwork({
      seed: options.seed,
      clock: this.clock,
      delay: () => netRandom.int(maxDelay + 1),
    });
    const dropRate = r.float() < 0.3 ? 0 : r.float() * 0.1;
    this.network.setDropRate(dropRate);
    this.faults = {
      duplicateRate: r.float() < 0.3 ? 0 : r.float() * 0.1,
      forwardLossRate: r.float() < 0.3 ? 0 : r.float() * 0.15,
      forwardDuplicateRate: r.float() < 0.3 ? 0 : r.float() * 0.1,
      maxForwardDelay: r.int(maxDelay + 1),
    };
    const link: LinkWorld = {
      faults: this.faults,
      counts: this.linkCounts,
      random: seededRandom(options.seed * 19 + 5),
      clock: this.clock,
    };
    const world = {
      scheduler: this.scheduler,
      network: this.network,
      link,
      seed: options.seed,
      trace: (kind: string, detail: object) => this.trace.add(this.scheduler.now, kind, detail),
    };
    const diskRandom = seededRandom(options.seed * 23 + 7);
    const maxWriteMs = 1 + r.int(10);
    // Under a budget a lost voter is replaced after two election timeouts: often, within a run.
    const budget =
      options.voters === undefined
        ? {}
        : {
            voters: options.voters,
            voterLossTimeout: 2 * TIMINGS.electionTimeout,
            logger: countingBudgetChanges(this.budgetChanges),
          };
    this.processes = Array.from({ length: options.members + (options.observers ?? 0) }, (_, i) => {
      const role = i < options.members ? ('voter' as const) : ('observer' as const);
      const disk = new SimDisk(() => diskRandom.int(maxWriteMs + 1));
      return new SimProcess(`n${i + 1}`, disk, world, { role, ...budget });
    });
    this.clients = new Clients(this.clock, this.recorder, KEYS, options.seed);
    const rates = { process: 0.1 + r.float() * 0.2, partition: 0.01 + r.float() * 0.05 };
    // With observers the voters are fewer than the members, so the nemesis's minority of the
    // members may be a majority of the voters: two wiped voters of three is a loss Raft cannot
    // survive (§5.4.1 needs a majority holding every committed entry). Strike only while every voter serves.
    const voters = options.voters ?? ((options.observers ?? 0) > 0 ? options.members : undefined);
    this.nemesis = new StackNemesis(
      r,
      this.processes,
      this.network,
      rates,
      { bringUpAfter: (p, ms) => this.clock.setTimeout(() => this.bringUp(p), ms) },
      (p, ms) => this.clock.setTimeout(() => p.resume(), ms),
      () => voters === undefined || this.budgetFull(voters),
    );
    this.trace.add(0, 'config', {
      dropRate,
      maxDelay,
      maxWriteMs,
      ...this.faults,
      rates,
      observers: options.observers ?? 0,
      voters: options.voters ?? null,
    });
  }

  async run(): Promise<StackSimResult> {
    if (await this.form()) {
      const healAt = this.scheduler.now + this.faultMs;
      this.clients.start(this.processes, 2, healAt);
      this.stepNemesis(healAt);
      await this.scheduler.runUntil(() => false, healAt);
      this.heal();
      await this.checkLiveness(healAt + this.boundMs);
    }
    const history = this.recorder.all();
    const finalStates = new Map(
      this.processes.filter((p) => p.state === 'up').map((p) => [p.id, p.localState()]),
    );
    const verdict = check({ history, streams: this.processes.flatMap((p) => p.streams), finalStates });
    this.problems.push(...verdict.problems, ...this.scheduler.errors.map((e) => `timer threw: ${String(e)}`));
    const failed = this.problems.length > 0;
    return {
      seed: this.options.seed,
      members: this.options.members,
      violations: this.problems,
      history: JSON.stringify(history),
      trace: failed || this.options.keepTrace === true ? this.trace.format() : [],
      stats: statsOf({
        history,
        streams: this.processes.flatMap((p) => p.streams),
        nemesis: this.nemesis,
        network: this.network.stats,
        links: this.linkCounts,
        disks: this.processes.map((p) => p.disk.counts),
        openFailures: this.openFailures,
        budget: this.budgetChanges,
        recoveryMs: this.recoveryMs,
        simulatedMs: this.scheduler.now,
        timers: this.scheduler.fired,
      }),
    };
  }

  /**
   * True when a serving member's committed configuration has `budget` voters and each of them
   * serves: a group of few voters among many members tolerates the loss of a minority of its
   * voters, not of its members, and a wiped voter counts until its replacement is promoted.
   */
  private budgetFull(budget: number): boolean {
    const serving = this.processes.filter((p) => p.serving);
    const members = serving[0]?.binding?.status().members ?? [];
    const voters = members.filter((m) => m.suffrage === 'voter').map((m) => m.id);
    return voters.length >= budget && voters.every((id) => serving.some((p) => p.id === id));
  }

  /** The quiet start: the first member bootstraps, the others join one by one. */
  private async form(): Promise<boolean> {
    for (const [i, p] of this.processes.entries()) {
      p.start(i === 0);
      const up = await this.scheduler.runUntil(
        () => p.state === 'up',
        this.scheduler.now + TIMINGS.startupTimeout,
      );
      if (!up) {
        this.problems.push(`setup: ${p.id} did not open on a quiet network (${p.state})`);
        return false;
      }
    }
    return true;
  }

  /** Starts `p` unless it runs; an open that fails is tried again, as a supervisor would. */
  private bringUp(p: SimProcess): void {
    if (p.state !== 'down') return;
    p.start(false, (err) => {
      if (err === null) return;
      this.openFailures++;
      this.clock.setTimeout(() => this.bringUp(p), this.healed ? 100 : 500);
    });
  }

  private stepNemesis(healAt: number): void {
    const step = () => {
      if (this.scheduler.now >= healAt) return;
      // Partitions last 10 to 210 ticks of 10 ms.
      const event = this.nemesis.step(Math.floor(this.scheduler.now / 10));
      if (event !== null) this.trace.add(this.scheduler.now, 'nemesis', event);
      this.clock.setTimeout(step, STEP_MS);
    };
    this.clock.setTimeout(step, STEP_MS);
  }

  /** Ends every fault: links whole and reliable, every process resumed, every member started. */
  private heal(): void {
    this.healed = true;
    this.nemesis.healPartitions();
    this.network.heal();
    this.network.setDropRate(0);
    Object.assign(this.faults, { duplicateRate: 0, forwardLossRate: 0, forwardDuplicateRate: 0 });
    for (const p of this.processes) {
      p.resume();
      this.bringUp(p);
    }
    this.trace.add(this.scheduler.now, 'heal', {});
  }

  /**
   * Within the bound after the heal: every member up and every call pending at the heal
   * answered; then a new write through every member and a linearizable read of every key on
   * every member; then every member holding the same state as its stream leads to.
   */
  private async checkLiveness(deadline: number): Promise<void> {
    const started = this.scheduler.now;
    const quiet = () => this.processes.every((p) => p.state === 'up') && this.clients.inFlight === 0;
    if (!(await this.scheduler.runUntil(quiet, deadline))) {
      this.problems.push(
        `LIVENESS ${this.boundMs} ms after the heal: ${this.describe()}; ${this.clients.inFlight} calls still pending`,
      );
      return;
    }
    const served: Op[][] = [];
    for (const p of this.processes) void this.probe(p, deadline).then((ops) => served.push(ops));
    await this.scheduler.runUntil(() => served.length === this.processes.length, deadline);
    const unserved = served.length < this.processes.length || served.some((ops) => !allServed(ops));
    if (unserved) {
      this.problems.push(
        `LIVENESS ${this.boundMs} ms after the heal: a new write and a read of every key not served on every member: ${this.describe()}`,
      );
      return;
    }
    const converged = () => {
      const states = this.processes.map((p) => JSON.stringify(Object.entries(p.localState()).sort()));
      const streamed = this.processes.map((p) => {
        const last = p.streams[p.streams.length - 1];
        return last === undefined ? '' : JSON.stringify([...foldStream(last)].sort());
      });
      return states.every((s, i) => s === states[0] && streamed[i] === s);
    };
    if (!(await this.scheduler.runUntil(converged, deadline))) {
      this.problems.push(`CONVERGENCE ${this.boundMs} ms after the heal: ${this.describe()}`);
      return;
    }
    this.recoveryMs = this.scheduler.now - started;
  }

  /** A new write through `p`, then a linearizable read of every key, retried until the deadline. */
  private async probe(p: SimProcess, deadline: number): Promise<Op[]> {
    const name = `${p.id}/final`;
    const ops = [await this.clients.write(p, name, KEYS[0] as string, `${name}#1`)];
    for (const key of KEYS) {
      for (;;) {
        const op = await this.clients.read(p, name, key);
        ops.push(op);
        if (op.outcome === 'ok' || this.scheduler.now >= deadline) break;
      }
    }
    return ops;
  }

  private describe(): string {
    return this.processes
      .map((p) => {
        if (p.state !== 'up' || p.binding === null) return `${p.id}:${p.state}`;
        const s = p.binding.status();
        return `${p.id}:${s.role}@${s.term} leader=${s.leader} commit=${s.commitIndex} applied=${s.appliedIndex}`;
      })
      .join(' ');
  }
}

/** The probe's write was acknowledged and every key was read. */
function allServed(ops: readonly Op[]): boolean {
  const [write, ...reads] = ops;
  return write?.outcome === 'ok' && KEYS.every((k) => reads.some((r) => r.key === k && r.outcome === 'ok'));
}

/** Runs one seed (with its planted bug, if any). */
export async function runStackSimulation(options: StackSimOptions): Promise<StackSimResult> {
  const unplant = options.bug === undefined ? () => undefined : plant(options.bug);
  try {
    return await new StackSimulation(options).run();
  } finally {
    unplant();
  }
}

/** A logger that counts the leaders' voter-budget changes (voter-keeper.ts) and drops the rest. */
function countingBudgetChanges(counts: { promoted: number; demoted: number }): Logger {
  const ignore = (): void => undefined;
  return {
    debug: ignore,
    info: (_details, message) => {
      if (message.startsWith('voter budget: promoted')) counts.promoted++;
      if (message.startsWith('voter budget: demoted')) counts.demoted++;
    },
    warn: ignore,
    error: ignore,
  };
}
