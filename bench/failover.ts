/**
 * Failover: SIGKILL the leader while a surviving member proposes at a steady rate; measure the time
 * until a new leader is seen, until the first proposal started after the kill succeeds, and until
 * every proposal that was in flight through the follower at the kill has succeeded (they were
 * forwarded to the dead leader and must follow the new one). The killed member is restarted on
 * its data directory before the next round.
 */
import type { Cluster } from './cluster.js';
import { nowMs, quantile, type Result, round, sleep, until } from './util.js';

export interface FailoverOptions {
  rounds: number;
  rate: number;
}

export async function failover(
  cluster: Cluster,
  options: FailoverOptions,
  report: (r: Result) => void,
): Promise<void> {
  const leaderMs: number[] = [];
  const firstWriteMs: number[] = [];
  const inFlightMs: number[] = [];
  let inFlightFailed = 0;
  const members = cluster.members.filter((m) => m.running).length;
  for (let round_ = 0; round_ < options.rounds; round_++) {
    const old = await cluster.leader();
    const survivors = cluster.members.filter((m) => m.running && m !== old);
    const loader = survivors[0];
    if (loader === undefined) throw new Error('failover needs at least two members');
    const load = loader.request<{ samples: Array<[number, number]> }>(
      { type: 'open', rate: options.rate, durationMs: 60_000, valueBytes: 256, timeoutMs: 10_000 },
      90_000,
    );
    // If the round fails before it awaits the load, its rejection must not hide the round's error.
    load.catch(() => undefined);
    await sleep(500);
    const t0 = nowMs();
    await old.kill();
    const elected = await until(
      async () => {
        const statuses = await Promise.all(survivors.map((m) => m.status().catch(() => null)));
        return statuses.some((s) => s?.status.role === 'leader') ? nowMs() : undefined;
      },
      'a new leader',
      20_000,
      5,
    );
    leaderMs.push(elected - t0);
    // Give proposals started after the kill time to go through, then stop the load.
    await until(async () => {
      const s = await loader.status();
      return s.status.leader !== null && s.status.leader !== old.id ? true : undefined;
    }, 'the loader to know the new leader');
    await sleep(300);
    await loader.request({ type: 'stop' });
    const { samples } = await load;
    const ends = samples.filter(([start, end]) => start >= t0 && end > 0).map(([, end]) => end - t0);
    if (ends.length > 0) firstWriteMs.push(Math.min(...ends));
    // Issued before the kill and not answered by then: pinned to the leader that died.
    const pinned = samples.filter(([start, end]) => start < t0 && (end < 0 || end >= t0));
    inFlightFailed += pinned.filter(([, end]) => end < 0).length;
    const pinnedEnds = pinned.filter(([, end]) => end >= 0).map(([, end]) => end - t0);
    if (pinnedEnds.length > 0) inFlightMs.push(Math.max(...pinnedEnds));
    await old.start(cluster.broker.url, false);
    await cluster.leader();
  }
  const q = { members, election_timeout_ms: 1000, rounds: options.rounds, load: options.rate };
  report({ metric: 'failover_leader_ms', value: round(quantile(leaderMs, 0.5)), unit: 'ms', ...q });
  report({ metric: 'failover_leader_max_ms', value: round(Math.max(...leaderMs)), unit: 'ms', ...q });
  report({
    metric: 'failover_first_write_ms',
    value: round(quantile(firstWriteMs, 0.5)),
    unit: 'ms',
    ...q,
    samples: firstWriteMs.length,
  });
  const via = { ...q, samples: inFlightMs.length, failed: inFlightFailed };
  report({
    metric: 'failover_first_write_via_follower_ms',
    value: round(quantile(inFlightMs, 0.5)),
    unit: 'ms',
    ...via,
  });
  report({
    metric: 'failover_first_write_via_follower_max_ms',
    value: round(Math.max(...inFlightMs)),
    unit: 'ms',
    ...via,
  });
  report({
    metric: 'failover_first_write_max_ms',
    value: round(Math.max(...firstWriteMs)),
    unit: 'ms',
    ...q,
    samples: firstWriteMs.length,
  });
}
