import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseCliArgs } from '../sim/cli-args.js';
import { PLANTED_BUGS, type PlantedBug } from './broken.js';
import { runStackSimulation, type StackSimResult } from './stack-sim.js';
import { type StackStats, summarize } from './stats.js';

/**
 * `npm run sim:stack -- --seeds N [--members 3|5] [--from F] [--observers N] [--voters N]` runs
 * seeds F..F+N-1 (default 1..N) for each group size (3 and 5 unless --members picks one), with
 * `--observers` more members joining as observers and `--voters` a voter budget for the group; `--seed S` replays one seed with its
 * trace, and `--history FILE` saves its history. `--bug dedupeByMember|pinnedForward|ackBeforeWrite` plants a bug.
 * Ends with `sim:stack: <N> seeds, <V> violations` and exits 0 only when V is 0.
 */
interface CliOptions {
  seeds: number;
  from: number;
  sizes: number[];
  verbose: boolean;
  bug: PlantedBug | undefined;
  historyFile: string | undefined;
  observers: number;
  voters: number | undefined;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const { raw: args, int } = parseCliArgs(argv);
  const members = int('members', 0);
  if (members !== 0 && members !== 3 && members !== 5) throw new Error('--members must be 3 or 5');
  const bug = args.get('bug');
  if (bug !== undefined && !PLANTED_BUGS.includes(bug as PlantedBug))
    throw new Error(`--bug must be one of ${PLANTED_BUGS.join(', ')}`);
  const seed = args.get('seed');
  return {
    seeds: seed !== undefined ? 1 : int('seeds', 100),
    from: seed !== undefined ? int('seed', 1) : int('from', 1),
    sizes: members === 0 ? [3, 5] : [members],
    verbose: args.has('verbose') || seed !== undefined,
    bug: bug as PlantedBug | undefined,
    historyFile: args.get('history'),
    observers: int('observers', 0),
    voters: args.has('voters') ? int('voters', 0) : undefined,
  };
}

/** The history's fingerprint: a replay of the seed prints the same one. */
export function historyDigest(history: string): string {
  return createHash('sha256').update(history).digest('hex').slice(0, 16);
}

/** The options of a replay that set observers and a budget. */
function membership(options: CliOptions): string {
  const observers = options.observers === 0 ? '' : ` --observers ${options.observers}`;
  return options.voters === undefined ? observers : `${observers} --voters ${options.voters}`;
}

function report(result: StackSimResult, options: CliOptions): void {
  const failed = result.violations.length > 0;
  for (const v of result.violations.slice(0, 40))
    console.log(`VIOLATION seed=${result.seed} members=${result.members} ${v}`);
  if (failed || options.verbose) {
    const bug = options.bug === undefined ? '' : ` --bug ${options.bug}`;
    console.log(
      `  history sha256=${historyDigest(result.history)} (${result.history.length} bytes); ` +
        `replay: npm run sim:stack -- --seed ${result.seed} --members ${result.members}${bug}${membership(options)}`,
    );
    for (const line of result.trace.slice(-80)) console.log(`  ${line}`);
  }
  if (options.verbose) console.log(JSON.stringify({ seed: result.seed, stats: result.stats }));
}

async function main(): Promise<void> {
  let options: CliOptions;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`sim:stack: ${(err as Error).message}`);
    process.exit(2);
  }
  let violations = 0;
  for (const members of options.sizes) {
    const stats: StackStats[] = [];
    let failedRuns = 0;
    let found = 0;
    for (let seed = options.from; seed < options.from + options.seeds; seed++) {
      const result = await runStackSimulation({
        seed,
        members,
        keepTrace: options.verbose,
        observers: options.observers,
        ...(options.voters === undefined ? {} : { voters: options.voters }),
        ...(options.bug === undefined ? {} : { bug: options.bug }),
      });
      stats.push(result.stats);
      found += result.violations.length;
      if (result.violations.length > 0) failedRuns++;
      report(result, options);
      if (options.historyFile !== undefined) writeFileSync(options.historyFile, result.history);
      // Long campaigns say how far they got, so a stopped one still reports what it covered.
      if (stats.length % 100 === 0 && stats.length < options.seeds)
        console.log(
          `  after ${stats.length} seeds: ${summarize(members, stats, { violations: found, failedRuns })}`,
        );
    }
    console.log(summarize(members, stats, { violations: found, failedRuns }));
    violations += found;
  }
  console.log(`sim:stack: ${options.seeds} seeds, ${violations} violations`);
  process.exit(violations === 0 ? 0 : 1);
}

await main();
