import { runSimulation, type SimOptions, type SimResult } from './simulation.js';

/** Runs seeds `from`..`from + count - 1` and returns the runs that reported violations. */
export function failingSeeds(
  count: number,
  options: Omit<SimOptions, 'seed'>,
  from = 1,
): { failures: SimResult[]; runs: number } {
  const failures: SimResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    const result = runSimulation({ ...options, seed });
    if (result.violations.length > 0) failures.push(result);
  }
  return { failures, runs: count };
}

/** A readable account of failed runs for an assertion message. */
export function describeFailures(failures: readonly SimResult[]): string {
  return failures
    .slice(0, 3)
    .map((r) => {
      const v = r.violations[0];
      return `seed ${r.seed} (${r.nodes} nodes): [${v?.invariant}] ${v?.detail}\n${r.trace.slice(-25).join('\n')}`;
    })
    .join('\n\n');
}
