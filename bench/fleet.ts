/**
 * The fleet step: 3 voters (one process each) and many observers hosted a few to a process
 * (bench/fleet-host.ts), on one broker process. Measured: throughput at a fixed concurrency through
 * the leader, first on the 3 voters alone and then with the observers (`ratio_vs_voters_only`);
 * at a fixed offered load, the commit latency, how long until the last observer sees each change,
 * the broker's incoming publishes per proposal and the leader's CPU per proposal.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Cluster, type MemberProcess } from './cluster.js';
import { cpuMsOf, forkBench, IpcPeer, quantile, type Result, round, stopGracefully, until } from './util.js';

export interface FleetOptions {
  observers: number;
  /** Processes the observers are spread over. */
  hosts: number;
  /** Offered load of the latency part, proposals/s. */
  rate: number;
  durationMs: number;
  /** Writers of the throughput part, and how long it runs. */
  concurrency: number;
  throughputMs: number;
}

interface Host {
  readonly child: ChildProcess;
  readonly peer: IpcPeer;
}

export async function fleet(options: FleetOptions, report: (r: Result) => void): Promise<void> {
  const cluster = await Cluster.start(3);
  const hosts: Host[] = [];
  try {
    const leader = await cluster.leader();
    const q = { voters: 3, concurrency: options.concurrency, via: 'leader' };
    const bare = await closedLoop(leader, options);
    report({ metric: 'fleet_throughput', value: round(bare, 0), unit: 'proposals/s', ...q, observers: 0 });
    const openMs = await startHosts(cluster, options, hosts);
    report({
      metric: 'fleet_open_observer_max_ms',
      value: round(Math.max(...openMs), 1),
      unit: 'ms',
      observers: options.observers,
      hosts: options.hosts,
    });
    const full = await closedLoop(leader, options);
    report({
      metric: 'fleet_throughput',
      value: round(full, 0),
      unit: 'proposals/s',
      ...q,
      observers: options.observers,
      ratio_vs_voters_only: round(full / bare, 2),
    });
    // The closed loop leaves the observers behind; the fixed load starts once they caught up.
    await barrier(leader, hosts, options.observers);
    await atFixedLoad(cluster, leader, hosts, options, report);
  } finally {
    await Promise.all(hosts.map((h) => stopGracefully(h.child)));
    await cluster.stop();
  }
}

async function closedLoop(leader: MemberProcess, options: FleetOptions): Promise<number> {
  const { ok, elapsedMs } = await leader.request<{ ok: number; elapsedMs: number }>(
    { type: 'closed', concurrency: options.concurrency, durationMs: options.throughputMs, valueBytes: 256 },
    options.throughputMs + 60_000,
  );
  return (ok * 1000) / elapsedMs;
}

/** Starts the host processes at once; resolves with every observer's open() time once all are open. */
async function startHosts(cluster: Cluster, options: FleetOptions, hosts: Host[]): Promise<number[]> {
  const ids = Array.from({ length: options.observers }, (_, i) => `o${String(i).padStart(3, '0')}`);
  const opening: Array<Promise<number[]>> = [];
  for (let h = 0; h < options.hosts; h++) {
    const mine = ids.filter((_, i) => i % options.hosts === h);
    const child = forkBench('./fleet-host.ts', [
      cluster.broker.url,
      join(cluster.root, `host-${h}`),
      mine.join(','),
    ]);
    hosts.push({ child, peer: new IpcPeer(child) });
    opening.push(
      new Promise<number[]>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`fleet host ${h} exited with code ${code}`)));
        child.on('message', (m: unknown) => {
          const msg = m as { type?: string; openMs?: number[]; error?: string };
          if (msg.type === 'ready') resolve(msg.openMs ?? []);
          else if (msg.type === 'failed') reject(new Error(`fleet host ${h} failed to open: ${msg.error}`));
        });
      }),
    );
  }
  return (await Promise.all(opening)).flat();
}

const LOAD = 'fleet-load-';
const BARRIER = 'fleet-barrier-';

/** One proposal through the leader; resolves once every observer has seen it (or 10 s passed). */
async function barrier(leader: MemberProcess, hosts: readonly Host[], observers: number): Promise<void> {
  await leader.request({ type: 'open', rate: 1000, durationMs: 1, valueBytes: 16, prefix: BARRIER }, 60_000);
  await whenAllSeen(hosts, 1, observers, BARRIER);
}

/** The processes of the fleet by what they run: the leader, the other voters, the broker, the hosts. */
function processRoles(
  cluster: Cluster,
  leader: MemberProcess,
  hosts: readonly Host[],
): Map<string, number[]> {
  const pids = (children: ReadonlyArray<ChildProcess | null>): number[] =>
    children.flatMap((c) => (c?.pid === undefined ? [] : [c.pid]));
  return new Map([
    ['leader', pids([leader.child])],
    ['followers', pids(cluster.members.filter((m) => m !== leader && m.running).map((m) => m.child))],
    ['broker', pids([cluster.broker.child])],
    ['observer_hosts', pids(hosts.map((h) => h.child))],
  ]);
}

/** CPU time used so far (ms) by each role's processes together, null where unknown. */
function cpuByRole(roles: Map<string, number[]>): Map<string, number | null> {
  return new Map([...roles].map(([role, pids]) => [role, pids.length === 0 ? null : cpuMsOf(pids)]));
}

/**
 * Proposals at `rate` through the leader, each setting key `fleet-load-<i>`; then, once every observer
 * has seen every change (or 10 s have passed), when the last one saw each.
 */
async function atFixedLoad(
  cluster: Cluster,
  leader: MemberProcess,
  hosts: readonly Host[],
  options: FleetOptions,
  report: (r: Result) => void,
): Promise<void> {
  const roles = processRoles(cluster, leader, hosts);
  const publishesBefore = await cluster.broker.publishes();
  const cpuBefore = cpuByRole(roles);
  const { samples } = await leader.request<{ samples: Array<[number, number]> }>(
    { type: 'open', rate: options.rate, durationMs: options.durationMs, valueBytes: 256, prefix: LOAD },
    options.durationMs + 60_000,
  );
  const publishes = (await cluster.broker.publishes()) - publishesBefore;
  const cpuAfter = cpuByRole(roles);
  const committed = samples.filter(([, end]) => end > 0);
  const q = { voters: 3, observers: options.observers, load: options.rate, via: 'leader' };
  const latencies = committed.map(([start, end]) => end - start);
  report({ metric: 'fleet_latency_p50_ms', value: round(quantile(latencies, 0.5), 2), unit: 'ms', ...q });
  report({ metric: 'fleet_latency_p99_ms', value: round(quantile(latencies, 0.99), 2), unit: 'ms', ...q });
  report({
    metric: 'fleet_publishes_per_proposal',
    value: round(publishes / Math.max(1, committed.length), 2),
    unit: 'publishes',
    ...q,
  });
  for (const [role, after] of cpuAfter) {
    const before = cpuBefore.get(role);
    if (before === undefined || before === null || after === null) continue;
    const perProposal = ((after - before) * 1000) / Math.max(1, committed.length);
    const metric = role === 'leader' ? 'fleet_leader_cpu_us_per_proposal' : 'fleet_cpu_us_per_proposal';
    report({
      metric,
      value: round(perProposal, 0),
      unit: 'µs',
      ...q,
      ...(role === 'leader' ? {} : { role }),
    });
  }
  const lastSeen = await whenAllSeen(hosts, committed.length, options.observers, LOAD);
  const visible: number[] = [];
  let missing = 0;
  samples.forEach(([start, end], i) => {
    const last = lastSeen.get(`${LOAD}${i}`);
    if (end > 0 && last !== undefined) visible.push(last - start);
    else if (end > 0) missing++;
  });
  report({
    metric: 'fleet_last_observer_sees_p99_ms',
    value: round(quantile(visible, 0.99), 2),
    unit: 'ms',
    ...q,
    ...(missing > 0 ? { missing } : {}),
  });
}

/**
 * For each key with `prefix` every observer saw: when the last one saw it (epoch ms). Waits up to
 * 10 s for `keys` of them.
 */
async function whenAllSeen(
  hosts: readonly Host[],
  keys: number,
  observers: number,
  prefix: string,
): Promise<Map<string, number>> {
  const collect = async (): Promise<Map<string, number>> => {
    const totals = new Map<string, { count: number; last: number }>();
    for (const host of hosts) {
      const { seen } = await host.peer.request<{ seen: Array<[string, number, number]> }>(
        { type: 'seen', prefix },
        10_000,
      );
      for (const [key, count, last] of seen) {
        const t = totals.get(key) ?? { count: 0, last: 0 };
        totals.set(key, { count: t.count + count, last: Math.max(t.last, last) });
      }
    }
    const complete = new Map<string, number>();
    for (const [key, t] of totals) if (t.count >= observers) complete.set(key, t.last);
    return complete;
  };
  try {
    return await until(
      async () => {
        const complete = await collect();
        return complete.size >= keys ? complete : undefined;
      },
      'every observer to see every change',
      10_000,
      100,
    );
  } catch {
    return collect();
  }
}
