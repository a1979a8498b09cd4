/**
 * `npm run jepsen -- --nodes N --seconds S --seed X [--observers N] [--voters N] [--broker aedes|mosquitto]
 *   [--nemesis kill,pause,…|all] [--keep]`
 * (or `--check DIR` to check a kept run again):
 * one fault run of the real stack (see runner.ts). Exits 0 only when the verdict passes; a failing
 * run prints where its history and logs are kept, and the same seed replays the same schedule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BrokerKind, mosquittoBinary } from './brokers.js';
import { check, summarize } from './checker.js';
import type { Op } from './history.js';
import { MemberHandle } from './members.js';
import { ALL_FAULTS, DEFAULT_FAULTS, type FaultKind } from './nemesis.js';
import { runFaultTest } from './runner.js';

function parseArgs(argv: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i] as string;
    if (!key.startsWith('--')) throw new Error(`unexpected argument ${key}`);
    if (key === '--keep') {
      args.set('keep', 'true');
      continue;
    }
    args.set(key.slice(2), argv[++i] ?? '');
  }
  return args;
}

function int(args: Map<string, string>, name: string, fallback: number, min: number): number {
  const raw = args.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be an integer >= ${min} (got ${raw})`);
  return value;
}

function faultsOf(raw: string | undefined): FaultKind[] {
  if (raw === undefined) return [...DEFAULT_FAULTS];
  if (raw === 'all') return [...ALL_FAULTS];
  const faults = raw.split(',').filter((f) => f.length > 0);
  for (const f of faults)
    if (!(ALL_FAULTS as readonly string[]).includes(f))
      throw new Error(`unknown fault ${f}; known: ${ALL_FAULTS.join(',')} or all`);
  return faults as FaultKind[];
}

/** `--check DIR`: checks a kept run again (its history.json and stream files), without running anything. */
function recheck(dir: string): number {
  const history = JSON.parse(readFileSync(join(dir, 'history.json'), 'utf8')) as Op[];
  const members = readdirSync(dir).filter((name) => /^n\d+$/.test(name));
  const streams = members.flatMap((id) => new MemberHandle(id, join(dir, id), '').streams());
  const verdict = check({ history, streams });
  for (const line of verdict.problems.slice(0, 60)) console.log(`  ${line}`);
  for (const line of summarize(verdict, history)) console.log(line);
  return verdict.valid ? 0 : 1;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const kept = args.get('check');
  if (kept !== undefined) return recheck(kept);
  const nodes = int(args, 'nodes', 3, 1);
  const observers = int(args, 'observers', 0, 0);
  const voters = args.has('voters') ? int(args, 'voters', 0, 1) : undefined;
  const seconds = int(args, 'seconds', 60, 1);
  const seed = int(args, 'seed', Math.floor(Math.random() * 1_000_000), 0);
  const broker = (args.get('broker') ?? 'aedes') as BrokerKind;
  if (broker !== 'aedes' && broker !== 'mosquitto') throw new Error('--broker must be aedes or mosquitto');
  if (broker === 'mosquitto' && mosquittoBinary() === null)
    throw new Error('mosquitto is not installed: apt-get update && apt-get install -y mosquitto');
  // The run bounds each of its waits; this watchdog bounds the whole, whatever happens.
  const watchdogMs = (seconds + 300) * 1000;
  const watchdog = setTimeout(() => {
    console.log(`jepsen: watchdog: the run took over ${watchdogMs} ms; giving up`);
    process.exit(2);
  }, watchdogMs);
  watchdog.unref();
  const result = await runFaultTest({
    nodes,
    observers,
    ...(voters === undefined ? {} : { voters }),
    seconds,
    seed,
    broker,
    faults: faultsOf(args.get('nemesis')),
    keep: args.has('keep'),
  });
  return result.valid ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`jepsen: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
