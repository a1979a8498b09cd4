/**
 * The broker of a fault run: the fault-injecting aedes broker in the runner's process, or a
 * mosquitto process started on a free port (no network faults there: mosquitto has no hook to
 * drop or delay single deliveries, so only process faults and broker restarts apply).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { alive, kill } from '../../bench/util.js';
import { FaultBroker } from './fault-broker.js';

export type BrokerKind = 'aedes' | 'mosquitto';

/** What the nemesis needs from a broker. */
export interface BrokerControl {
  readonly kind: BrokerKind;
  readonly url: string;
  /** The fault broker, or null when network faults are unavailable. */
  readonly faults: FaultBroker | null;
  stop(): Promise<void>;
  startAgain(): Promise<void>;
  close(): Promise<void>;
}

export async function startBrokerControl(
  kind: BrokerKind,
  cluster: string,
  seed: number,
  dir: string,
): Promise<BrokerControl> {
  if (kind === 'aedes') {
    const fb = await FaultBroker.start(cluster, seed);
    return {
      kind,
      url: fb.url,
      faults: fb,
      stop: () => fb.stop(),
      startAgain: () => retry(() => fb.startAgain()),
      close: () => fb.close(),
    };
  }
  return Mosquitto.start(dir);
}

/** Retries a restart that may find the port still held for a moment. */
async function retry(fn: () => Promise<void>, attempts = 20): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** The path of the mosquitto binary, or null when it is not installed. */
export function mosquittoBinary(): string | null {
  for (const candidate of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']) {
    try {
      execFileSync(candidate, ['-h'], { stdio: 'ignore' });
      return candidate;
    } catch (err) {
      // `mosquitto -h` exits non-zero (3) after printing its usage: it still proves the binary runs.
      if ((err as { status?: number }).status !== undefined && (err as { status?: number }).status !== null)
        return candidate;
    }
  }
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

/** Resolves once something accepts TCP connections on `port`, within `ms`. */
async function waitForPort(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

class Mosquitto implements BrokerControl {
  readonly kind = 'mosquitto' as const;
  readonly faults = null;
  private child: ChildProcess | null = null;

  private constructor(
    private readonly binary: string,
    private readonly config: string,
    private readonly port: number,
  ) {}

  static async start(dir: string): Promise<Mosquitto> {
    const binary = mosquittoBinary();
    if (binary === null) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
    const port = await freePort();
    const config = join(dir, 'mosquitto.conf');
    writeFileSync(
      config,
      [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ''].join(
        '\n',
      ),
    );
    const m = new Mosquitto(binary, config, port);
    await m.startAgain();
    return m;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async startAgain(): Promise<void> {
    this.child = spawn(this.binary, ['-c', this.config], { stdio: 'ignore' });
    await waitForPort(this.port, 10_000);
  }

  async stop(): Promise<void> {
    if (this.child !== null && alive(this.child)) await kill(this.child, 'SIGTERM');
  }

  close(): Promise<void> {
    return this.stop();
  }
}
