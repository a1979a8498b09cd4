/** Commit latency at a fixed offered load (open loop, measured from each proposal's scheduled start). */
import type { Cluster } from './cluster.js';
import { quantile, type Result, round } from './util.js';

export interface LatencyOptions {
  rate: number;
  durationMs: number;
  valueBytes: number;
  /** raw_rtt_p50_us of the same run, for the ratio; NaN when unknown. */
  rawRttP50Us: number;
  /** Which member proposes: the leader, or a follower (each proposal forwarded to the leader). */
  via: 'leader' | 'follower';
}

export async function latency(
  cluster: Cluster,
  options: LatencyOptions,
  report: (r: Result) => void,
): Promise<void> {
  const proposer = options.via === 'leader' ? await cluster.leader() : await cluster.follower();
  const members = cluster.members.filter((m) => m.running).length;
  const { samples } = await proposer.request<{ samples: Array<[number, number]> }>(
    { type: 'open', rate: options.rate, durationMs: options.durationMs, valueBytes: options.valueBytes },
    options.durationMs + 60_000,
  );
  const latencies = samples.filter(([, end]) => end > 0).map(([start, end]) => end - start);
  const failed = samples.length - latencies.length;
  const q = { members, load: options.rate, via: options.via, value_bytes: options.valueBytes };
  const p50 = quantile(latencies, 0.5);
  const p50Line: Result = { metric: 'propose_latency_p50_ms', value: round(p50, 2), unit: 'ms', ...q };
  if (Number.isFinite(options.rawRttP50Us))
    p50Line.ratio_vs_raw_rtt_p50 = round((p50 * 1000) / options.rawRttP50Us, 2);
  report(p50Line);
  report({ metric: 'propose_latency_p99_ms', value: round(quantile(latencies, 0.99), 2), unit: 'ms', ...q });
  report({
    metric: 'propose_latency_max_ms',
    value: round(Math.max(...latencies), 2),
    unit: 'ms',
    ...q,
    ...(failed > 0 ? { failed } : {}),
  });
}
