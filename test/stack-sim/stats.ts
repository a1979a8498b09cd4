import type { InmemNetworkStats } from '../../src/transport/index.js';
import type { Op } from '../jepsen/history.js';
import type { StreamRecord } from '../jepsen/streams.js';
import type { LinkCounts } from './link.js';
import type { StackNemesis } from './nemesis.js';

/** How often each fault and each operation fired in a run: flat counters, so runs add up. */
export type StackStats = Record<string, number>;

/** What a run hands over for counting. */
export interface StatsInput {
  history: readonly Op[];
  streams: readonly StreamRecord[];
  nemesis: StackNemesis;
  network: InmemNetworkStats;
  links: LinkCounts;
  disks: ReadonlyArray<{ landed: number; lost: number }>;
  openFailures: number;
  /** Voters promoted and lost voters demoted by the leaders under a voter budget. */
  budget: { promoted: number; demoted: number };
  /** Simulated ms from the heal until every liveness check passed; -1 when they did not. */
  recoveryMs: number;
  simulatedMs: number;
  timers: number;
}

/** The counters of one run. */
export function statsOf(input: StatsInput): StackStats {
  const ops = (kind: Op['kind'], outcome?: Op['outcome']) =>
    input.history.filter((op) => op.kind === kind && (outcome === undefined || op.outcome === outcome))
      .length;
  const net = input.network;
  return {
    ...input.nemesis.counts,
    ...input.nemesis.partitionCounts,
    messagesSent: net.sent,
    messagesDropped: net.dropReasons.random,
    messagesCut: net.dropReasons.cut,
    ...input.links,
    writesLostInCrash: input.disks.reduce((n, d) => n + d.lost, 0),
    openFailures: input.openFailures,
    budgetPromotions: input.budget.promoted,
    budgetDemotions: input.budget.demoted,
    writes: ops('write'),
    writesOk: ops('write', 'ok'),
    writesFail: ops('write', 'fail'),
    writesInfo: ops('write', 'info'),
    reads: ops('read'),
    readsOk: ops('read', 'ok'),
    readsFail: ops('read', 'fail'),
    processes: input.streams.length,
    changesObserved: input.streams.reduce((n, s) => n + s.live.length, 0),
    recoveryMs: input.recoveryMs,
    simulatedMs: input.simulatedMs,
    timers: input.timers,
  };
}

/** One line per group size: runs, violations, and every counter added up over the runs. */
export function summarize(
  members: number,
  stats: readonly StackStats[],
  found: { violations: number; failedRuns: number },
): string {
  const total: Record<string, number> = {};
  for (const s of stats) {
    for (const [k, v] of Object.entries(s)) if (k !== 'recoveryMs') total[k] = (total[k] ?? 0) + v;
  }
  const recovery = stats.map((s) => s.recoveryMs ?? -1).filter((ms) => ms >= 0);
  const fields = {
    runs: stats.length,
    failedRuns: found.failedRuns,
    violations: found.violations,
    ...total,
    maxRecoveryMs: recovery.length === 0 ? -1 : Math.max(...recovery),
  };
  return `sim:stack[${members} members]: ${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}
