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

/** A finished command: its exit code and what it printed. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `mqtt-raft` commands run as child processes with one environment, each awaited with a deadline
 * so a test fails instead of hanging. The children are recorded in `children`.
 */
export class MqttRaftCli {
  constructor(
    private readonly children: ChildProcess[],
    private readonly env: NodeJS.ProcessEnv,
    /** How long a process may take to print what is awaited, or to exit. */
    private readonly deadlineMs: number,
  ) {}

  /** Starts `mqtt-raft <args>`. */
  start(args: readonly string[]): Cli {
    return spawnCli(this.children, 'src/cli/main.ts', args, this.env);
  }

  /** The exit code, failing instead of hanging when the process does not exit in time. */
  async exitCode(cli: Cli): Promise<number | null> {
    await waitFor(
      () => cli.child.exitCode !== null || cli.child.signalCode !== null,
      this.deadlineMs,
      `mqtt-raft to exit (stdout: ${cli.stdout}, stderr: ${cli.stderr})`,
    );
    return cli.exit;
  }

  /** Runs a command to its end. */
  async run(args: readonly string[]): Promise<CliResult> {
    const cli = this.start(args);
    const code = await this.exitCode(cli);
    return { code, stdout: cli.stdout, stderr: cli.stderr };
  }

  /** Waits until `cli` printed a match of `pattern` on stdout; fails if it exits first. */
  async waitForOutput(
    cli: Cli,
    pattern: RegExp,
    what: string,
    deadlineMs = this.deadlineMs,
  ): Promise<RegExpExecArray> {
    await waitFor(() => pattern.test(cli.stdout) || cli.child.exitCode !== null, deadlineMs, what).catch(
      (err: Error) => {
        throw new Error(`${err.message}; stdout: ${cli.stdout}; stderr: ${cli.stderr}`);
      },
    );
    const match = pattern.exec(cli.stdout);
    if (match === null)
      throw new Error(`${what}: the process exited; stdout: ${cli.stdout}; stderr: ${cli.stderr}`);
    return match;
  }
}
