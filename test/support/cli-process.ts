import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
 * `input`, when given, is written to its standard input, which is then closed.
 */
export function spawnCli(
  children: ChildProcess[],
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  input?: Uint8Array,
): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO,
    env,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  // A child that exits before reading everything closes the pipe: that is its business.
  child.stdin?.on('error', () => undefined);
  child.stdin?.end(input);
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
