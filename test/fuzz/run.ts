/**
 * `npm run fuzz`: runs every fuzz target of test/fuzz/targets FUZZ_RUNS times (default 100,000),
 * each from FUZZ_SEED (random when unset; printed), and prints per target the cases, failures,
 * accepted and rejected inputs, and the worst and 99th-percentile time per input byte. Exits
 * non-zero when a property fails; fast-check prints the seed and the shrunk input to replay it.
 *
 *   npm run fuzz
 *   FUZZ_RUNS=5000 FUZZ_ONLY=storage,cli npm run fuzz      # targets whose name contains "storage" or "cli"
 */
import fc from 'fast-check';
import type { AnyTarget, Outcome } from './support/target.js';
import { bindingTargets } from './targets/binding.js';
import { controlTarget } from './targets/cli.js';
import { msgpackTargets } from './targets/msgpack.js';
import { peerInputTarget } from './targets/node.js';
import { replayTarget } from './targets/replay.js';
import { storageTargets } from './targets/storage.js';
import { transportTargets } from './targets/transport.js';

interface Row {
  readonly name: string;
  readonly cases: number;
  readonly failures: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly maxUsPerByte: number;
  readonly p99UsPerByte: number;
  /** The worst over inputs of 1 KiB or more, where fixed costs and one GC pause weigh little; null without such inputs. */
  readonly maxUsPerByteLarge: number | null;
  readonly seconds: number;
}

async function runTarget(target: AnyTarget, numRuns: number, seed: number): Promise<Row> {
  const perByte: number[] = [];
  let worstLarge: number | null = null;
  const counts: Record<Outcome, number> = { accepted: 0, rejected: 0 };
  const started = performance.now();
  const details = await fc.check(
    fc.asyncProperty(target.inputs, async (input) => {
      const t = performance.now();
      const outcome = await target.check(input);
      const size = target.size(input);
      const usPerByte = ((performance.now() - t) * 1000) / Math.max(1, size);
      perByte.push(usPerByte);
      if (size >= 1024) worstLarge = Math.max(worstLarge ?? 0, usPerByte);
      counts[outcome]++;
    }),
    { numRuns, seed },
  );
  await target.close?.();
  if (details.failed) console.error(`\n${target.name}: ${fc.defaultReportMessage(details)}\n`);
  perByte.sort((a, b) => a - b);
  return {
    name: target.name,
    cases: details.numRuns,
    failures: details.failed ? 1 : 0,
    ...counts,
    maxUsPerByte: perByte.at(-1) ?? 0,
    p99UsPerByte: perByte[Math.floor(0.99 * (perByte.length - 1))] ?? 0,
    maxUsPerByteLarge: worstLarge,
    seconds: (performance.now() - started) / 1000,
  };
}

function print(rows: readonly Row[]): void {
  console.log(
    '| target | cases | failures | accepted | rejected | max µs/byte | p99 µs/byte | max µs/byte, ≥ 1 KiB | s |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const cells = [
      r.name,
      r.cases,
      r.failures,
      r.accepted,
      r.rejected,
      r.maxUsPerByte.toFixed(1),
      r.p99UsPerByte.toFixed(2),
      r.maxUsPerByteLarge === null ? '–' : r.maxUsPerByteLarge.toFixed(2),
      r.seconds.toFixed(0),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

async function main(): Promise<void> {
  const numRuns = Number(process.env.FUZZ_RUNS ?? 100_000);
  const seed = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);
  const only = (process.env.FUZZ_ONLY ?? '').split(',');
  // An async handler that fails after its input was judged would otherwise go unnoticed.
  let unhandled = 0;
  process.on('unhandledRejection', (reason) => {
    unhandled++;
    console.error('unhandled rejection:', reason);
  });
  const targets = [
    ...msgpackTargets(),
    ...transportTargets(),
    replayTarget,
    ...storageTargets(),
    ...bindingTargets(),
    controlTarget,
    peerInputTarget,
  ].filter((t) => only.some((part) => t.name.includes(part)));
  console.log(`fuzz: ${targets.length} targets, ${numRuns} cases each, seed ${seed}`);
  const rows: Row[] = [];
  for (const target of targets) {
    const row = await runTarget(target, numRuns, seed);
    console.log(`  ${row.name}: ${row.failures === 0 ? 'ok' : 'FAILED'} in ${row.seconds.toFixed(0)} s`);
    rows.push(row);
  }
  print(rows);
  if (unhandled > 0) console.error(`${unhandled} unhandled rejections`);
  if (unhandled > 0 || rows.some((r) => r.failures > 0)) process.exitCode = 1;
}

await main();
