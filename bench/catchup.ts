/**
 * Catch-up: fill the group's state with `stateMb` MB (64 KiB values, through the leader), then start
 * a fresh member. Reports the time its open() took (join through the leader until it is a voter) and
 * the time until it has applied everything committed before it joined.
 */
import type { Cluster } from './cluster.js';
import { nowMs, type Result, round, until } from './util.js';

export async function catchup(
  cluster: Cluster,
  options: { stateMb: number },
  report: (r: Result) => void,
): Promise<void> {
  const leader = await cluster.leader();
  await leader.request(
    { type: 'fill', totalBytes: options.stateMb * 1024 * 1024, valueBytes: 64 * 1024, concurrency: 8 },
    300_000,
  );
  const target = (await leader.status()).status.commitIndex;
  const t0 = nowMs();
  const member = await cluster.add();
  const joinedMs = member.openMs;
  await until(
    async () => ((await member.status()).status.appliedIndex >= target ? true : undefined),
    'the new member to apply the state',
    300_000,
    10,
  );
  const appliedMs = nowMs() - t0;
  const members = cluster.members.filter((m) => m.running).length;
  const name = `catchup_${options.stateMb}mb_ms`;
  report({
    metric: name,
    value: round(joinedMs),
    unit: 'ms',
    state_mb: options.stateMb,
    members,
    until: 'voter',
  });
  report({
    metric: `${name.replace(/_ms$/, '')}_applied_ms`,
    value: round(appliedMs),
    unit: 'ms',
    state_mb: options.stateMb,
    members,
    until: 'applied',
    includes: 'process start',
  });
}
