import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

/** The repository root: CLI scripts are spawned from there. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A spawned CLI with its output captured as it arrives. */
export interface Cli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

/**
 * Spawns `script` (a TypeScript file, relative to the repository) under tsx with `args`, capturing
 * stdout and stderr, and records the child in `children` so the test can kill what is left.
 */
export function spawnCli(
  children: ChildProcess[],
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const cli: Cli = {
    child,
    stdout: '',
    stderr: '',
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    cli.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    cli.stderr += chunk.toString();
  });
  return cli;
}

/** SIGKILLs every child in `children` that is still running, and empties the list. */
export function killChildren(children: ChildProcess[]): void {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** Resolves with the exit code, failing instead of hanging when the process has not exited within `timeoutMs`. */
export async function exitOf(cli: Cli, timeoutMs: number): Promise<number | null> {
  await waitFor(
    () => cli.child.exitCode !== null || cli.child.signalCode !== null,
    timeoutMs,
    `the process to exit (stdout: ${cli.stdout}, stderr: ${cli.stderr})`,
  );
  return cli.exit;
}

/** Waits until stdout matches `pattern` and returns the match; fails if the process exits first. */
export async function stdoutMatch(
  cli: Cli,
  pattern: RegExp,
  timeoutMs: number,
  what: string,
): Promise<RegExpExecArray> {
  await waitFor(() => pattern.test(cli.stdout) || cli.child.exitCode !== null, timeoutMs, what);
  const match = pattern.exec(cli.stdout);
  if (match === null)
    throw new Error(`${what}: the process exited; stdout: ${cli.stdout}; stderr: ${cli.stderr}`);
  return match;
}
