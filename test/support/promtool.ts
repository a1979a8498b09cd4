/**
 * `promtool check metrics`, Prometheus's own linter of the text format. Tests fail, not skip,
 * without it: `.ci/run` installs it, locally `bash scripts/install-promtool.sh`.
 */
import { execFileSync, spawn } from 'node:child_process';

let binary: string | undefined;

function promtool(): string {
  if (binary !== undefined) return binary;
  for (const candidate of ['promtool', '/usr/local/bin/promtool', '/usr/bin/promtool']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      binary = candidate;
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error('promtool is not installed: run `bash scripts/install-promtool.sh` (CI does)');
}

/** Runs `promtool check metrics` on `text`: its exit code and what it printed (the problems found). */
export function checkMetrics(text: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(promtool(), ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stdin.end(text);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}
