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
  /** True when the group seals its envelopes (a group key): the rows say `sealed=true`. */
  sealed?: boolean;
  /** The unsealed rate of the same run at this via and concurrency, for `ratio_vs_unsealed`; NaN when unknown. */
  unsealedRps?: (via: 'leader' | 'follower', concurrency: number) => number;
}

export async function throughput(
  cluster: Cluster,
  options: ThroughputOptions,
  report: (r: Result) => void,
): Promise<void> {
  const members = cluster.members.filter((m) => m.running).length;
  for (const via of options.vias) {
    for (const concurrency of options.concurrencies) {
      const leader = await cluster.leader();
      const target: MemberProcess = via === 'leader' ? leader : await cluster.follower();
      const before = await leader.status();
      const run = await target.request<{ ok: number; failed: number; elapsedMs: number }>(
        { type: 'closed', concurrency, durationMs: options.durationMs, valueBytes: options.valueBytes },
        options.durationMs + 60_000,
      );
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
      if (options.sealed === true) {
        line.sealed = true;
        const unsealed = options.unsealedRps?.(via, concurrency) ?? Number.NaN;
        if (Number.isFinite(unsealed) && unsealed > 0)
          line.ratio_vs_unsealed = Math.round((rate / unsealed) * 1000) / 1000;
      }
      if (run.failed > 0) line.failed = run.failed;
      report(line);
      const batches = after.batchesPersisted - before.batchesPersisted;
      const entries = after.entriesPersisted - before.entriesPersisted;
      if (before.batchesPersisted >= 0 && batches > 0 && after.status.id === before.status.id) {
        report({
          metric: 'entries_per_sync_batch',
          value: Math.round((entries / batches) * 10) / 10,
          unit: 'entries/batch',
          members,
          concurrency,
          via,
          on: 'leader',
        });
      }
    }
  }
}
