import { runStackSimulation, type StackSimOptions, type StackSimResult } from './stack-sim.js';

/**
 * Seeds CI runs per group size (about a minute each on a loaded two-core machine); the planted
 * bugs must be caught within them. `npm run sim:stack -- --seeds 1000` is the long campaign.
 */
export const CI_SEEDS = 12;

/** Seeds CI runs with 5 members, which cost about twice as much per seed. */
export const CI_SEEDS_5 = 8;

/** Runs seeds `from`..`from + count - 1` and returns every run. */
export async function runSeeds(
  count: number,
  options: Omit<StackSimOptions, 'seed'>,
  from = 1,
): Promise<StackSimResult[]> {
  const results: StackSimResult[] = [];
  for (let seed = from; seed < from + count; seed++)
    results.push(await runStackSimulation({ ...options, seed }));
  return results;
}

/** The first run of seeds 1..`count` with a violation that `matches` (default: any), or null. */
export async function firstFailingSeed(
  count: number,
  options: Omit<StackSimOptions, 'seed'>,
  matches: (violation: string) => boolean = () => true,
): Promise<StackSimResult | null> {
  for (let seed = 1; seed <= count; seed++) {
    const result = await runStackSimulation({ ...options, seed });
    if (result.violations.some(matches)) return result;
  }
  return null;
}

/** A readable account of failed runs for an assertion message. */
export function describeFailures(results: readonly StackSimResult[]): string {
  return results
    .filter((r) => r.violations.length > 0)
    .slice(0, 3)
    .map(
      (r) =>
        `seed ${r.seed} (${r.members} members):\n${r.violations.slice(0, 10).join('\n')}\n${r.trace.slice(-30).join('\n')}`,
    )
    .join('\n\n');
}
