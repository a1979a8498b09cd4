import type { SimResult } from './simulation.js';

/** One line per cluster size: how many runs, violations, and how often each fault fired. */
export function summarize(nodes: number, results: readonly SimResult[]): string {
  const sum = (f: (r: SimResult) => number) => results.reduce((acc, r) => acc + f(r), 0);
  const partitions: Record<string, number> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r.stats.partitions)) partitions[k] = (partitions[k] ?? 0) + v;
  }
  const recovery = results.map((r) => r.stats.recoveryTicks).filter((t) => t >= 0);
  const fields = {
    runs: results.length,
    violations: sum((r) => r.violations.length),
    ticks: sum((r) => r.stats.ticks),
    leadersElected: sum((r) => r.stats.leadersElected),
    proposals: sum((r) => r.stats.proposals),
    accepted: sum((r) => r.stats.accepted),
    committed: sum((r) => r.stats.committedProposals),
    crashes: sum((r) => r.stats.crashes),
    crashBeforePersist: sum((r) => r.stats.crashPoints.beforePersist),
    crashBeforeSend: sum((r) => r.stats.crashPoints.beforeSend),
    crashBeforeApply: sum((r) => r.stats.crashPoints.beforeApply),
    ...partitions,
    messagesSent: sum((r) => r.stats.messagesSent),
    dropped: sum((r) => r.stats.messagesDropped),
    duplicated: sum((r) => r.stats.messagesDuplicated),
    blockedByPartition: sum((r) => r.stats.messagesBlocked),
    maxRecoveryTicks: recovery.length === 0 ? -1 : Math.max(...recovery),
  };
  return `sim[${nodes} nodes]: ${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}
