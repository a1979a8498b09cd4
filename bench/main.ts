/**
 * `npm run bench [-- --quick] [-- --json]`: baselines (raw MQTT through the broker, LevelDB synced
 * writes), then a 3-member group (member processes, broker process, LevelDB stores): open times,
 * throughput, latency at a fixed load via the leader and via a follower, failover, catch-up; the
 * full run adds a 5-member throughput row; then a fleet of 3 voters and 30 observers.
 * With --json: one JSON object per line on stdout; otherwise a table. Progress goes to stderr.
 * A complete run (no --only) that succeeded saves its results as bench/results/<quick|full>.jsonl
 * and, in full mode, redraws bench/results/throughput.svg from them.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { levelBaselines, mqttBaselines } from './baselines.js';
import { catchup } from './catchup.js';
import { throughputSvg } from './chart.js';
import { Cluster } from './cluster.js';
import { failover } from './failover.js';
import { fleet } from './fleet.js';
import { latency } from './latency.js';
import { type ThroughputGroup, type ThroughputOptions, throughput } from './throughput.js';
import { killAll, type Result, round } from './util.js';

const STEPS = ['baselines', 'open', 'throughput', 'latency', 'failover', 'catchup', 'five', 'fleet'] as const;
type Step = (typeof STEPS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    /** Comma-separated subset of STEPS, for profiling one step; default: all of them. */
    only: { type: 'string' },
    /** Comma-separated concurrencies for the throughput steps, overriding the mode's list. */
    concurrency: { type: 'string' },
  },
  strict: true,
});
const quick = values.quick === true;
const json = values.json === true;
const steps = new Set<Step>(parseList(values.only, STEPS) ?? STEPS);
const concurrencyOverride = parseList(values.concurrency, null)?.map(Number);

/** Splits a comma-separated option; checks each item against `allowed` (or that it is a positive integer). */
function parseList<T extends string>(
  value: string | undefined,
  allowed: readonly T[] | null,
): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').filter((v) => v !== '');
  for (const item of items) {
    const ok = allowed === null ? /^[1-9][0-9]*$/.test(item) : (allowed as readonly string[]).includes(item);
    if (!ok) {
      process.stderr.write(
        `bench: bad list item "${item}"${allowed ? ` (one of ${allowed.join(', ')})` : ''}\n`,
      );
      process.exit(2);
    }
  }
  return items as T[];
}
const results: Result[] = [];
const started = Date.now();

function report(r: Result): void {
  results.push(r);
  if (json) console.log(JSON.stringify(r));
  else progress(`${r.metric} = ${r.value} ${r.unit}`);
}

function progress(text: string): void {
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${text}\n`);
}

function metric(name: string): number {
  return results.find((r) => r.metric === name)?.value ?? Number.NaN;
}

function table(): string {
  const rows = results.map((r) => {
    const { metric: m, value, unit, ...q } = r;
    const quals = Object.entries(q)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    return [m, String(value), unit, quals];
  });
  const head = ['metric', 'value', 'unit', 'qualifiers'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 1 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function run(): Promise<void> {
  progress(`mode ${quick ? 'quick' : 'full'}, steps ${[...steps].join(', ')}`);
  if (steps.has('baselines')) {
    progress('baseline: raw MQTT');
    for (const r of await mqttBaselines({ quick })) report(r);
    progress('baseline: LevelDB synced writes');
    for (const r of await levelBaselines({ quick })) report(r);
  }
  const threeMemberSteps: Step[] = ['open', 'throughput', 'latency', 'failover', 'catchup'];
  if (threeMemberSteps.some((s) => steps.has(s))) await threeMembers();
  if (!quick && steps.has('five')) await fiveMembers();
  if (steps.has('fleet')) {
    progress('fleet: 3 voters, 30 observers');
    await fleet(
      {
        observers: 30,
        hosts: quick ? 2 : 3,
        rate: 200,
        durationMs: quick ? 3000 : 10_000,
        concurrency: 64,
        throughputMs: quick ? 1500 : 5000,
      },
      report,
    );
  }
}

/** The throughput step's options, the same for the plain and the sealed group. */
function throughputOptions(): ThroughputOptions {
  return {
    concurrencies: concurrencyOverride ?? (quick ? [1, 16, 128] : [1, 16, 128, 1024]),
    durationMs: quick ? 1500 : 5000,
    valueBytes: 256,
    vias: ['leader', 'follower'],
    rawPipelinedRps: metric('raw_pipelined_rps'),
  };
}

async function threeMembers(): Promise<void> {
  progress('starting 3 members');
  const cluster = await Cluster.start(3);
  try {
    if (steps.has('open')) reportOpenTimes(cluster);
    if (steps.has('throughput')) await throughputPlainAndSealed(cluster);
    if (steps.has('latency')) {
      for (const via of ['leader', 'follower'] as const) {
        progress(`latency at 1000 proposals/s via the ${via}`);
        await latency(
          cluster,
          {
            rate: 1000,
            durationMs: quick ? 3000 : 10_000,
            valueBytes: 256,
            rawRttP50Us: metric('raw_rtt_p50_us'),
            via,
          },
          report,
        );
      }
    }
    if (steps.has('failover')) {
      progress('failover');
      await failover(cluster, { rounds: quick ? 3 : 5, rate: 200 }, report);
    }
    if (steps.has('catchup')) {
      progress('catch-up');
      await catchup(cluster, { stateMb: quick ? 5 : 50 }, report);
    }
  } finally {
    await cluster.stop();
  }
}

/**
 * How long `open()` took in the member processes as the group formed: the bootstrap member (its
 * broker probe, then its election) and each joiner (probe, join through the leader, catch-up).
 */
function reportOpenTimes(cluster: Cluster): void {
  const [first, ...joiners] = cluster.members;
  const members = cluster.members.length;
  report({ metric: 'open_bootstrap_ms', value: round(first?.openMs ?? Number.NaN, 1), unit: 'ms', members });
  const joins = joiners.map((m) => m.openMs);
  report({
    metric: 'open_join_max_ms',
    value: round(Math.max(...joins), 1),
    unit: 'ms',
    members,
    joiners: joins.length,
  });
}

/**
 * The throughput step on `plain` and on a second group whose members share a group key (the cost
 * of sealing), the two measured in turn at each point (see {@link throughput}).
 */
async function throughputPlainAndSealed(plain: Cluster): Promise<void> {
  progress('starting 3 members with a group key');
  const sealed = await Cluster.start(3, { sealed: true });
  try {
    progress('throughput, plain and sealed in turn');
    const groups: ThroughputGroup[] = [
      { cluster: plain, sealed: false },
      { cluster: sealed, sealed: true },
    ];
    await throughput(groups, throughputOptions(), report);
  } finally {
    await sealed.stop();
  }
}

async function fiveMembers(): Promise<void> {
  progress('starting 5 members');
  const five = await Cluster.start(5);
  try {
    await throughput(
      [{ cluster: five, sealed: false }],
      {
        concurrencies: concurrencyOverride ?? [1, 16, 128, 1024],
        durationMs: 5000,
        valueBytes: 256,
        vias: ['leader'],
        rawPipelinedRps: metric('raw_pipelined_rps'),
      },
      report,
    );
  } finally {
    await five.stop();
  }
}

/** Keeps a complete run's results beside the bench, and redraws the chart from a full one. */
async function save(): Promise<void> {
  const path = (name: string): string => fileURLToPath(new URL(`./results/${name}`, import.meta.url));
  const lines = results.map((r) => `${JSON.stringify(r)}\n`).join('');
  await writeFile(path(quick ? 'quick.jsonl' : 'full.jsonl'), lines);
  if (!quick) await writeFile(path('throughput.svg'), throughputSvg(results));
  progress(`saved the results in bench/results/${quick ? 'quick.jsonl' : 'full.jsonl and throughput.svg'}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void killAll().finally(() => process.exit(130));
  });
}

let failed = false;
try {
  await run();
} catch (err) {
  failed = true;
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  await killAll();
}
if (!json) console.log(table());
if (!failed && values.only === undefined) await save();
progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
