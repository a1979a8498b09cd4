import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { type Cli, killChildren, spawnCli } from './cli-process.js';
import { waitFor } from './wait.js';

/**
 * The environment of the CLI processes a test starts: the test's own without any `MQTT_RAFT_*`
 * variable (a developer's shell must not change what the test runs), plus a fresh group key, so
 * members seal their envelopes and do not warn about an unauthenticated group; then `extra`.
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('MQTT_RAFT_')) env[name] = value;
  return { ...env, MQTT_RAFT_GROUP_KEY: randomBytes(32).toString('hex'), ...extra };
}

/** What a finished command printed, and its exit code. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `mqtt-raft` processes (src/cli/main.ts under tsx) and waits for them, failing a test instead of hanging. */
export class CliRunner {
  private readonly children: ChildProcess[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    /** Generous, because every child compiles the CLI with tsx on start. */
    readonly deadlineMs: number,
  ) {}

  /** Starts `mqtt-raft <args>`; `env` adds to the runner's environment; `input` is its standard input. */
  start(args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: Uint8Array } = {}): Cli {
    return spawnCli(this.children, 'src/cli/main.ts', args, { ...this.env, ...options.env }, options.input);
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
  async run(
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; input?: Uint8Array } = {},
  ): Promise<CliResult> {
    const cli = this.start(args, options);
    const code = await this.exitCode(cli);
    return { code, stdout: cli.stdout, stderr: cli.stderr };
  }

  /**
   * Waits until stdout matches `pattern`, for at most `deadlineMs` (default: the runner's); throws
   * with the output if the process exits first.
   */
  async waitForOutput(
    cli: Cli,
    pattern: RegExp,
    what: string,
    deadlineMs = this.deadlineMs,
  ): Promise<RegExpExecArray> {
    await waitFor(() => pattern.test(cli.stdout) || cli.child.exitCode !== null, deadlineMs, what);
    const match = pattern.exec(cli.stdout);
    if (match === null)
      throw new Error(`${what}: the process exited; stdout: ${cli.stdout}; stderr: ${cli.stderr}`);
    return match;
  }

  /** SIGKILLs whatever is still running. */
  killAll(): void {
    killChildren(this.children);
  }
}

/** Faster Raft timing than the defaults, so a fresh member elects itself quickly. */
export const FAST_RAFT = ['--heartbeat-timeout', '100', '--election-timeout', '200'];

/** What {@link useCliFixture} provides to the tests of one file. */
export interface CliFixture {
  readonly cli: CliRunner;
  /** The embedded broker, started before the file's tests. */
  broker(): RunningBroker;
  /** A temporary directory for the file's tests, removed after them. */
  dir(): string;
}

/** Registers hooks that start a broker and make a directory before a file's tests, and clean up after. */
export function useCliFixture(prefix: string, deadlineMs: number): CliFixture {
  const cli = new CliRunner(cliEnv(), deadlineMs);
  let broker: RunningBroker | null = null;
  let dir: string | null = null;
  beforeAll(async () => {
    broker = await startBroker({ host: '127.0.0.1', port: 0 });
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    cli.killAll();
    await broker?.close();
    if (dir !== null) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  });
  const started = <T>(value: T | null): T => {
    if (value === null) throw new Error('the CLI fixture is used before its beforeAll hook ran');
    return value;
  };
  return { cli, broker: () => started(broker), dir: () => started(dir) };
}
