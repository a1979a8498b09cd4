import type { ChildProcess } from 'node:child_process';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cli, killChildren, spawnCli } from '../support/cli-process.js';
import { rejectionOf } from '../support/promises.js';
import { connectMqtt } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

/** Generous, because the child compiles the CLI with tsx on start. */
const DEADLINE_MS = 15_000;

const children: ChildProcess[] = [];
const clients: MqttClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  killChildren(children);
});

function runCli(args: string[]): Cli {
  return spawnCli(children, 'broker/cli.ts', args);
}

/** Waits for the "listening on" line and returns the URL it prints. */
async function listeningUrl(cli: Cli): Promise<string> {
  const pattern = /mqtt-raft broker listening on (mqtt:\/\/127\.0\.0\.1:(\d+))\n/;
  await waitFor(
    () => pattern.test(cli.stdout) || cli.child.exitCode !== null,
    DEADLINE_MS,
    'the broker CLI to print its address',
  );
  const match = pattern.exec(cli.stdout);
  if (match?.[1] === undefined) throw new Error(`the CLI did not start; stderr: ${cli.stderr}`);
  expect(Number(match[2])).toBeGreaterThan(0);
  return match[1];
}

/** Resolves once the client got CONNACK 0; rejects with mqtt.js's error otherwise. */
function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connectMqtt(clients, url, options, DEADLINE_MS);
}

/** The exit code, failing the test instead of hanging when the process does not exit in time. */
async function exitCode(cli: Cli): Promise<number | null> {
  await waitFor(
    () => cli.child.exitCode !== null || cli.child.signalCode !== null,
    DEADLINE_MS,
    'the CLI to exit',
  );
  return cli.exit;
}

describe('npm run broker', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'serves clients on the printed port and exits 0 on %s',
    async (signal) => {
      const cli = runCli(['--host', '127.0.0.1', '--port', '0']);
      const url = await listeningUrl(cli);
      const client = await connectClient(url);
      let clientClosed = false;
      client.on('close', () => {
        clientClosed = true;
      });

      cli.child.kill(signal);
      expect(await exitCode(cli)).toBe(0);
      await waitFor(() => clientClosed, DEADLINE_MS, 'the client to be disconnected');
      expect(cli.stderr).toBe('');
    },
  );

  it('requires the credentials given with --username and --password', async () => {
    const cli = runCli(['--port', '0', '--username', 'raft', '--password', 's3cret']);
    const url = await listeningUrl(cli);
    const refused = await rejectionOf(connectClient(url, { username: 'raft', password: 'nope' }));
    expect((refused as { code?: unknown }).code).toBe(4);
    await connectClient(url, { username: 'raft', password: 's3cret' });
    cli.child.kill('SIGTERM');
    expect(await exitCode(cli)).toBe(0);
  });

  it('exits 2 with an error for bad arguments', async () => {
    const cases: [string[], RegExp][] = [
      [['--port', 'nope'], /--port must be an integer from 0 to 65535/],
      [['--port', '70000'], /--port must be an integer/],
      [['--port', ''], /--port must be an integer/],
      [['--username', 'raft'], /--username and --password must be given together/],
      [['--password', 'x'], /--username and --password must be given together/],
      [['--bogus'], /bogus/],
      [['positional'], /positional/],
      [['--host', ''], /host: must be a non-empty string/],
    ];
    // In parallel: each case is a process start, and they are independent.
    await Promise.all(
      cases.map(async ([args, message]) => {
        const cli = runCli(args);
        const what = `for ${JSON.stringify(args)}`;
        expect(await exitCode(cli), what).toBe(2);
        expect(cli.stderr, what).toMatch(message);
        expect(cli.stdout, what).not.toContain('listening on');
      }),
    );
  });
});
