import type { InmemNetwork } from '../../src/transport/index.js';
import { FaultInjector, type Partitionable } from '../sim/faults.js';
import type { SimRandom } from '../sim/network.js';
import type { SimProcess } from './process.js';

/** What the nemesis does to a process. */
export type ProcessFault = 'crash' | 'crashMidWrite' | 'restart' | 'leave' | 'wipe' | 'pause';

export const PROCESS_FAULTS: readonly ProcessFault[] = [
  'crash',
  'crashMidWrite',
  'restart',
  'leave',
  'wipe',
  'pause',
];

/** Per-step probabilities of one run's nemesis. */
export interface NemesisRates {
  /** A process fault starts (while fewer than a minority of members are out). */
  process: number;
  /** A partition starts (when none is active). */
  partition: number;
}

/** What the nemesis asks of the run: bring a member back after a while. */
export interface Supervisor {
  /** Starts `p` again after `ms` (a rejoin after leave or wipe, a restart after a crash). */
  bringUpAfter(p: SimProcess, ms: number): void;
}

/**
 * Injects the faults of a run, one step at a time: process faults (crash and restart later, crash
 * in the middle of a disk write, restart at once, leave and rejoin, wipe and rejoin, pause and resume) while at most a minority of
 * the members is out, so the group can go on; and partitions of every shape the core simulation
 * uses (isolate one, majority/minority, majorities ring, one way, bridge) on the in-memory network.
 */
export class StackNemesis {
  readonly counts: Record<ProcessFault, number> = {
    crash: 0,
    crashMidWrite: 0,
    restart: 0,
    leave: 0,
    wipe: 0,
    pause: 0,
  };
  private readonly partitions: FaultInjector;
  private readonly cuts: { active: boolean };

  constructor(
    private readonly random: SimRandom,
    private readonly processes: readonly SimProcess[],
    network: InmemNetwork,
    private readonly rates: NemesisRates,
    private readonly supervisor: Supervisor,
    private readonly resumeLater: (p: SimProcess, ms: number) => void,
    /**
     * More that must hold before a process fault: under a voter budget, the voters are a minority
     * of the members, so the run only strikes while the budget is full and every voter serves.
     */
    private readonly mayStrike: () => boolean = () => true,
  ) {
    const cuts = { active: false };
    this.cuts = cuts;
    const partitionable: Partitionable = {
      separate: (a, b) => {
        cuts.active = true;
        network.partition(a, b);
      },
      cutLink: (from, to) => {
        cuts.active = true;
        network.cut(from, to);
      },
      healAll: () => {
        cuts.active = false;
        network.heal();
      },
      hasCuts: () => cuts.active,
    };
    this.partitions = new FaultInjector(
      random,
      processes.map((p) => p.id),
      partitionable,
      { crash: 0, crashPoint: 0, partition: rates.partition },
    );
  }

  /** Partitions started, by shape. */
  get partitionCounts(): Record<string, number> {
    return this.partitions.counts;
  }

  /** One step at `tick` (10 ms units): maybe a partition starts or heals, maybe a process fault. */
  step(tick: number): Record<string, unknown> | null {
    const partition = this.partitions.maybePartition(tick);
    if (this.random.float() >= this.rates.process) return partition;
    const minority = Math.floor((this.processes.length - 1) / 2);
    const out = this.processes.filter((p) => !p.serving).length;
    if (out >= minority || !this.mayStrike()) return partition;
    const candidates = this.processes.filter((p) => p.serving);
    const p = candidates[this.random.int(candidates.length)];
    if (p === undefined) return partition;
    const fault = PROCESS_FAULTS[this.random.int(PROCESS_FAULTS.length)] as ProcessFault;
    this.counts[fault]++;
    this.inflict(fault, p);
    return { fault, id: p.id, ...(partition ?? {}) };
  }

  /** Ends the partition, if any. */
  healPartitions(): void {
    if (this.cuts.active) this.partitions.maybePartition(Number.POSITIVE_INFINITY);
  }

  private inflict(fault: ProcessFault, p: SimProcess): void {
    const later = () => 20 + this.random.int(800);
    switch (fault) {
      case 'crash':
        p.crash();
        this.supervisor.bringUpAfter(p, later());
        return;
      case 'crashMidWrite': {
        // The next write the process issues never lands: it dies while the write is unsynced.
        const ms = later();
        p.disk.crashOnNextWrite(() => {
          p.crash();
          this.supervisor.bringUpAfter(p, ms);
        });
        return;
      }
      case 'restart':
        p.crash();
        this.supervisor.bringUpAfter(p, 0);
        return;
      case 'leave': {
        const ms = later();
        void p.leave().then(() => this.supervisor.bringUpAfter(p, ms));
        return;
      }
      case 'wipe':
        p.crash();
        p.disk.wipe();
        this.supervisor.bringUpAfter(p, later());
        return;
      case 'pause':
        p.pause();
        this.resumeLater(p, later());
        return;
    }
  }
}
