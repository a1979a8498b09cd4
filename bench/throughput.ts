/** proposeInput throughput (closed loop) on the leader and through a follower, per concurrency. */
import type { Cluster, MemberProcess } from './cluster.js';
import type { Result } from './util.js';

export interface ThroughputOptions {
  concurrencies: number[];
  durationMs: number;
  valueBytes: number;
  vias: Array<'leader' | 'follower'>;
  /** raw_pipelined_rps of the same run, for the ratio; NaN when unknown. */
  rawPipelinedRps: number;
}

/** A group to measure; with `sealed`, its members share a group key and its rows say `sealed=true`. */
export interface ThroughputGroup {
  readonly cluster: Cluster;
  readonly sealed: boolean;
}

/** One measured point: its `propose_throughput` line, and the leader's batching over it (or null). */
interface Point {
  readonly line: Result;
  readonly batching: Result | null;
}

/**
 * Measures every via × concurrency on each group. With a plain and a sealed group, the two are
 * measured back to back at each point, first one then the other in turn, so that a change in the
 * machine's load over the run falls on both about equally; the sealed line then carries
 * `ratio_vs_unsealed`, the sealed rate over the plain rate at that point. Every line carries
 * `cpu_us_per_proposal`: the CPU time the group's broker and members used over the point, per
 * successful proposal (where `/proc` tells it).
 */
export async function throughput(
  groups: readonly ThroughputGroup[],
  options: ThroughputOptions,
  report: (r: Result) => void,
): Promise<void> {
  let point = 0;
  for (const via of options.vias) {
    for (const concurrency of options.concurrencies) {
      const order = groups.map((_, i) => groups[(i + point) % groups.length] as ThroughputGroup);
      point++;
      const measured = new Map<ThroughputGroup, Point>();
      for (const group of order) measured.set(group, await measure(group, via, concurrency, options));
      const plain = groups.find((g) => !g.sealed);
      const plainLine = plain === undefined ? undefined : measured.get(plain)?.line;
      for (const group of groups) {
        const { line, batching } = measured.get(group) as Point;
        if (group.sealed && plainLine !== undefined) compareWithPlain(line, plainLine);
        report(line);
        if (batching !== null) report(batching);
      }
    }
  }
}

/**
 * Adds to a sealed line its rate over the plain one (`ratio_vs_unsealed`) and the plain group's CPU
 * per proposal over its own (`cpu_ratio_vs_unsealed`: the rate ratio a machine whose CPU is the only
 * limit would show, and which other load on the machine changes much less than the rates).
 */
function compareWithPlain(line: Result, plain: Result): void {
  if (plain.value > 0) line.ratio_vs_unsealed = Math.round((line.value / plain.value) * 1000) / 1000;
  const cpu = line.cpu_us_per_proposal;
  const plainCpu = plain.cpu_us_per_proposal;
  if (typeof cpu === 'number' && typeof plainCpu === 'number' && cpu > 0)
    line.cpu_ratio_vs_unsealed = Math.round((plainCpu / cpu) * 1000) / 1000;
}

async function measure(
  group: ThroughputGroup,
  via: 'leader' | 'follower',
  concurrency: number,
  options: ThroughputOptions,
): Promise<Point> {
  const { cluster, sealed } = group;
  const members = cluster.members.filter((m) => m.running).length;
  const leader = await cluster.leader();
  const target: MemberProcess = via === 'leader' ? leader : await cluster.follower();
  const before = await leader.status();
  const cpuBefore = cluster.cpuMs();
  const run = await target.request<{ ok: number; failed: number; elapsedMs: number }>(
    { type: 'closed', concurrency, durationMs: options.durationMs, valueBytes: options.valueBytes },
    options.durationMs + 60_000,
  );
  const cpuAfter = cluster.cpuMs();
  const after = await leader.status();
  const rate = run.ok / (run.elapsedMs / 1000);
  const line: Result = {
    metric: 'propose_throughput',
    value: Math.round(rate),
    unit: 'proposals/s',
    members,
    concurrency,
    via,
    value_bytes: options.valueBytes,
  };
  if (Number.isFinite(options.rawPipelinedRps))
    line.ratio_vs_raw_pipelined = Math.round((rate / options.rawPipelinedRps) * 1000) / 1000;
  if (cpuBefore !== null && cpuAfter !== null && run.ok > 0)
    line.cpu_us_per_proposal = Math.round(((cpuAfter - cpuBefore) * 1000) / run.ok);
  if (sealed) line.sealed = true;
  if (run.failed > 0) line.failed = run.failed;
  const batches = after.batchesPersisted - before.batchesPersisted;
  const entries = after.entriesPersisted - before.entriesPersisted;
  const batching: Result | null =
    before.batchesPersisted >= 0 && batches > 0 && after.status.id === before.status.id
      ? {
          metric: 'entries_per_sync_batch',
          value: Math.round((entries / batches) * 10) / 10,
          unit: 'entries/batch',
          members,
          concurrency,
          via,
          on: 'leader',
          ...(sealed ? { sealed: true } : {}),
        }
      : null;
  return { line, batching };
}
