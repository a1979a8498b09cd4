import { parseCliArgs } from './cli-args.js';
import { runSimulation, type SimResult } from './simulation.js';
import { summarize } from './summary.js';

/**
 * `npm run sim -- --seeds N [--nodes 3|5] [--nonvoters K] [--seed S] [--from F]`: runs seeds
 * F..F+N-1 (default 1..N) for each cluster size (3 and 5 voters unless --nodes picks one, plus K
 * non-voters in the initial configuration, default 0), or replays the single seed S with its
 * trace. Ends with `sim: <N> seeds, <V> violations` and exits 0 only when V is 0.
 */
function parseArgs(argv: readonly string[]): {
  seeds: number;
  from: number;
  sizes: number[];
  nonvoters: number;
  verbose: boolean;
} {
  const { raw: args, int } = parseCliArgs(argv);
  const nodes = int('nodes', 0);
  if (nodes !== 0 && nodes !== 3 && nodes !== 5) throw new Error('--nodes must be 3 or 5');
  const seed = args.get('seed');
  const from = seed !== undefined ? int('seed', 1) : int('from', 1);
  const seeds = seed !== undefined ? 1 : int('seeds', 100);
  return {
    seeds,
    from,
    sizes: nodes === 0 ? [3, 5] : [nodes],
    nonvoters: int('nonvoters', 0),
    verbose: args.has('verbose') || seed !== undefined,
  };
}

function report(result: SimResult): void {
  for (const v of result.violations) {
    console.log(
      `VIOLATION seed=${result.seed} nodes=${result.nodes} tick=${v.tick} [${v.invariant}] ${v.detail}`,
    );
  }
  if (result.violations.length > 0) {
    const nonvoters = result.nonvoters > 0 ? ` --nonvoters ${result.nonvoters}` : '';
    console.log(`  replay: npm run sim -- --seed ${result.seed} --nodes ${result.nodes}${nonvoters}`);
    for (const line of result.trace) console.log(`  ${line}`);
  }
}

function main(): void {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`sim: ${(err as Error).message}`);
    process.exit(2);
  }
  let violations = 0;
  for (const nodes of options.sizes) {
    const results: SimResult[] = [];
    for (let seed = options.from; seed < options.from + options.seeds; seed++) {
      const result = runSimulation({ seed, nodes, nonvoters: options.nonvoters });
      results.push(result);
      violations += result.violations.length;
      report(result);
      if (options.verbose) console.log(JSON.stringify({ seed, nodes, stats: result.stats }));
    }
    console.log(summarize(nodes, results, options.nonvoters));
  }
  console.log(`sim: ${options.seeds} seeds, ${violations} violations`);
  process.exit(violations === 0 ? 0 : 1);
}

main();
