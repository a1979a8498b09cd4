/**
 * Combines Stryker JSON reports (reports/mutation/mutation.json of runs split by files) into one
 * score, per file and in total, as docs/testing.md reports it. A file in several reports counts
 * from the last one given, so an incremental re-run of some files can follow the first runs.
 *
 *   npx tsx scripts/mutation-score.ts a.json b.json [--lines]
 *
 * `--lines` lists where each surviving or uncovered mutant is (line:mutator).
 */
import { readFileSync } from 'node:fs';

type Status = 'Killed' | 'Timeout' | 'Survived' | 'NoCoverage' | 'CompileError' | 'Ignored' | 'RuntimeError';

interface Report {
  files: Record<
    string,
    { mutants: { status: Status; mutatorName: string; location: { start: { line: number } } }[] }
  >;
}

type Counts = Record<Status, number>;

const zero = (): Counts => ({
  Killed: 0,
  Timeout: 0,
  Survived: 0,
  NoCoverage: 0,
  CompileError: 0,
  Ignored: 0,
  RuntimeError: 0,
});

/** Stryker's score: detected (killed or timed out) over detected, survived and not covered. */
function score(c: Counts, covered = false): string {
  const detected = c.Killed + c.Timeout;
  const all = detected + c.Survived + (covered ? 0 : c.NoCoverage);
  return all === 0 ? 'n/a' : ((100 * detected) / all).toFixed(2);
}

function describe(c: Counts): string {
  return `killed ${c.Killed}, timeout ${c.Timeout}, survived ${c.Survived}, no coverage ${c.NoCoverage}, type errors ${c.CompileError}, ignored ${c.Ignored}`;
}

const args = process.argv.slice(2);
const showLines = args.includes('--lines');
const files = new Map<string, { counts: Counts; lines: string[] }>();
for (const path of args.filter((a) => a !== '--lines')) {
  const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  for (const [name, file] of Object.entries(report.files)) {
    const entry = { counts: zero(), lines: [] as string[] };
    for (const m of file.mutants) {
      entry.counts[m.status]++;
      if (m.status === 'Survived' || m.status === 'NoCoverage')
        entry.lines.push(
          `${m.location.start.line}:${m.mutatorName}${m.status === 'NoCoverage' ? ' (not covered)' : ''}`,
        );
    }
    files.set(name, entry);
  }
}
const total = zero();
const rows = [...files].sort(([, a], [, b]) => Number(score(a.counts)) - Number(score(b.counts)));
for (const [name, { counts, lines }] of rows) {
  for (const status of Object.keys(total) as Status[]) total[status] += counts[status];
  console.log(`${score(counts).padStart(6)} %  ${name}  (${describe(counts)})`);
  if (showLines && lines.length > 0) console.log(`          ${lines.join(', ')}`);
}
console.log(`total ${score(total)} % (covered ${score(total, true)} %): ${describe(total)}`);
