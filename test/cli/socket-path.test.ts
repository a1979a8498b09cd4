import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/cli-error.js';
import { checkSocketPathLength, claimSocketPath, probeSocket } from '../../src/cli/socket-path.js';
import { rejectionOf } from '../support/promises.js';
import { waitFor } from '../support/wait.js';

let dir: string;
const servers: Server[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-sock-'));
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  await rm(dir, { recursive: true, force: true });
});

/** A socket file nobody listens on, as a SIGKILLed member leaves behind. */
async function staleSocket(path: string): Promise<void> {
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  await waitFor(() => out.includes('up'), 10_000, 'the helper to listen');
  child.kill('SIGKILL');
  await waitFor(() => child.signalCode !== null, 10_000, 'the helper to die');
}

describe('control socket paths', () => {
  it('tells live, stale, absent and foreign paths apart', async () => {
    const live = join(dir, 'live.sock');
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(live, resolve));
    const stale = join(dir, 'stale.sock');
    await staleSocket(stale);
    const file = join(dir, 'file');
    await writeFile(file, 'not a socket');

    expect(await probeSocket(live)).toBe('live');
    expect(await probeSocket(stale)).toBe('stale');
    expect(await probeSocket(join(dir, 'none.sock'))).toBe('absent');
    expect(await probeSocket(file)).toBe('not-a-socket');
  });

  it('claims a stale socket and refuses a live one or a regular file', async () => {
    const stale = join(dir, 'stale.sock');
    await staleSocket(stale);
    await claimSocketPath(stale);
    expect(existsSync(stale)).toBe(false);

    const live = join(dir, 'live.sock');
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(live, resolve));
    const refused = await rejectionOf(claimSocketPath(live));
    expect(refused).toBeInstanceOf(CliError);
    expect((refused as Error).message).toBe(`another member is already running at ${live}`);

    const file = join(dir, 'file');
    await writeFile(file, 'data');
    expect(((await rejectionOf(claimSocketPath(file))) as Error).message).toMatch(
      /exists and is not a socket/,
    );
    expect(existsSync(file)).toBe(true);
  });

  it('refuses a path longer than a Unix socket allows', () => {
    expect(() => checkSocketPathLength(`/tmp/${'x'.repeat(200)}.sock`)).toThrow(
      /more than the \d+ a Unix socket allows/,
    );
    expect(() => checkSocketPathLength('/tmp/short.sock')).not.toThrow();
  });
});
