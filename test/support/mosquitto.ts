/**
 * A mosquitto process for tests: its own config in a temp dir, a free port on 127.0.0.1 (never
 * 1883, so a system mosquitto service started by the package install does not matter), stderr kept
 * for failure messages, started again on the same port after a stop.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';

const START_MS = 10_000;
const STOP_MS = 5_000;
/** How much of the broker's stderr is kept for a failure message. */
const LOG_CHARS = 8_000;

let binaryPath: string | null | undefined;

/** The path of the mosquitto binary, or null when it is not installed. */
export function mosquittoBinary(): string | null {
  if (binaryPath !== undefined) return binaryPath;
  binaryPath = null;
  // Debian installs it in /usr/sbin, which is not on a non-root PATH.
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    try {
      execFileSync(candidate, ['-h'], { stdio: 'ignore' });
      binaryPath = candidate;
    } catch (err) {
      // `mosquitto -h` exits non-zero (3) after printing its usage: an exit status still proves the
      // binary runs, while a missing file fails without one.
      const status = (err as { status?: number | null }).status;
      if (status !== undefined && status !== null) binaryPath = candidate;
    }
    if (binaryPath !== null) break;
  }
  return binaryPath;
}

/** True once something accepts TCP connections on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface MosquittoOptions {
  /** Lines appended to the generated config (a bridge, limits). */
  readonly extraConfig?: readonly string[];
  /** The port to listen on; a free one by default. */
  readonly port?: number;
}

/** One mosquitto broker process, restartable on its port. */
export class Mosquitto {
  private child: ChildProcess | null = null;
  private stderr = '';
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly binary: string,
    private readonly dir: string,
    readonly port: number,
    private config: readonly string[],
  ) {}

  /** Starts a broker and resolves once it accepts connections. */
  static async start(options: MosquittoOptions = {}): Promise<Mosquitto> {
    const binary = mosquittoBinary();
    if (binary === null) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
    const dir = mkdtempSync(join(tmpdir(), 'mqtt-raft-mosquitto-'));
    const port = options.port ?? (await freePort());
    const m = new Mosquitto(binary, dir, port, options.extraConfig ?? []);
    await m.startAgain();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** The end of what the broker wrote to stderr (its log), for failure messages. */
  log(): string {
    return this.stderr;
  }

  /** Replaces the extra config lines used by the next {@link startAgain}. */
  reconfigure(extraConfig: readonly string[]): void {
    this.config = extraConfig;
  }

  /** Starts the process (again) on the same port; resolves once it accepts connections. */
  async startAgain(): Promise<void> {
    if (this.child !== null) throw new Error('mosquitto is already running');
    const file = join(this.dir, 'mosquitto.conf');
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      // As the embedded broker does (design §3): without it a QoS 1 round trip waits for delayed ACKs.
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      ...this.config,
      '',
    ];
    writeFileSync(file, lines.join('\n'));
    const child = spawn(this.binary, ['-c', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-LOG_CHARS);
    });
    const deadline = Date.now() + START_MS;
    while (!(await accepts(this.port))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(`mosquitto did not listen on ${this.port} within ${START_MS} ms:\n${this.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM, then SIGKILL when it has not exited after a deadline; resolves once it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** Stops the broker and removes its directory. */
  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
