import type { SimResult } from './simulation.js';

/** Adds up the numeric fields of records. */
function total(records: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) for (const [k, v] of Object.entries(r)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** One line per cluster size: how many runs, violations, and how often each fault and operation fired. */
export function summarize(nodes: number, results: readonly SimResult[], nonvoters = 0): string {
  const sum = (f: (r: SimResult) => number) => results.reduce((acc, r) => acc + f(r), 0);
  const recovery = results.map((r) => r.stats.recoveryTicks).filter((t) => t >= 0);
  const fields: Record<string, number> = {
    runs: results.length,
    violations: sum((r) => r.violations.length),
    ticks: sum((r) => r.stats.ticks),
    leadersElected: sum((r) => r.stats.leadersElected),
    ...total(
      results.map(
        ({
          stats: {
            workload: { confChanges: _c, ...rest },
          },
        }) => rest,
      ),
    ),
    ...total(results.map((r) => r.stats.workload.confChanges)),
    committedProposals: sum((r) => r.stats.committedProposals),
    snapshotsTaken: sum((r) => r.stats.snapshotsTaken),
    snapshotsInstalled: sum((r) => r.stats.snapshotsInstalled),
    writesFinishedLater: sum((r) => r.stats.writesFinishedLater),
    crashes: sum((r) => r.stats.crashes),
    ...total(results.map((r) => r.stats.crashPoints)),
    ...total(results.map((r) => r.stats.partitions)),
    messagesSent: sum((r) => r.stats.messagesSent),
    dropped: sum((r) => r.stats.messagesDropped),
    duplicated: sum((r) => r.stats.messagesDuplicated),
    blockedByPartition: sum((r) => r.stats.messagesBlocked),
    multicasts: sum((r) => r.stats.multicasts),
    multicastRecipients: sum((r) => r.stats.multicastRecipients),
    maxRecoveryTicks: recovery.length === 0 ? -1 : Math.max(...recovery),
  };
  const size = nonvoters > 0 ? `${nodes} nodes + ${nonvoters} nonvoters` : `${nodes} nodes`;
  return `sim[${size}]: ${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}
