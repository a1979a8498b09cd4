import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { controlRequest } from '../../src/cli/control-client.js';
import type { Cli } from '../support/cli-process.js';
import { CliRunner, cliEnv, FAST_RAFT } from '../support/cli-runner.js';
import { freePort } from '../support/ports.js';

/** Generous, because every child compiles the CLI with tsx on start. */
const DEADLINE_MS = 15_000;
const TIMING = FAST_RAFT;

const cli = new CliRunner(cliEnv(), DEADLINE_MS);
let broker: RunningBroker;
let dir: string;

beforeAll(async () => {
  broker = await startBroker({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await broker.close();
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-cli-'));
});

afterEach(async () => {
  cli.killAll();
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
});

const runCli = (args: string[]): Cli => cli.start(args);
const exitCode = (proc: Cli) => cli.exitCode(proc);
const run = (args: string[]) => cli.run(args);
const waitForOutput = (proc: Cli, pattern: RegExp, what: string) => cli.waitForOutput(proc, pattern, what);

/** Writes `text` to a control socket as is and resolves with the first line of the answer. */
function rawExchange(path: string, text: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      const newline = received.indexOf('\n');
      if (newline === -1) return;
      socket.destroy();
      resolve(JSON.parse(received.slice(0, newline)));
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

describe('mqtt-raft node and the client commands', () => {
  it('serves set, get, del, state, members, status and watch through the control socket', async () => {
    const data = join(dir, 'n1');
    const node = runCli([
      'node',
      '--id',
      'n1',
      '--broker',
      broker.url,
      '--data',
      data,
      '--bootstrap',
      ...TIMING,
    ]);
    const [, controlPath] = await waitForOutput(
      node,
      /ready; control socket (.+)\n/,
      'the member to be ready',
    );
    expect(controlPath).toBe(join(data, 'control.sock'));
    await waitForOutput(node, /leader: n1 \(this member\)/, 'the member to lead');
    const member = ['--data', data];

    const set = await run(['set', 'color', 'blue', ...member]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toMatch(/^OK \(index \d+\)\n$/);
    expect(set.code).toBe(0);

    // The protocol itself: malformed requests are refused, bytes that are not UTF-8 travel in base64.
    const socket = join(data, 'control.sock');
    expect(await rawExchange(socket, 'not json\n')).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
    expect(await rawExchange(socket, '{"cmd":"get"}\n')).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringContaining('key') },
    });
    const bad64 = { cmd: 'set', key: 'bin', value: '%%', encoding: 'base64' } as const;
    expect(await controlRequest(socket, bad64, DEADLINE_MS)).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST' },
    });
    const binary = { id: 7, cmd: 'set', key: 'bin', value: '/wA=', encoding: 'base64' } as const;
    expect(await controlRequest(socket, binary, DEADLINE_MS)).toMatchObject({ id: 7, ok: true });
    expect(await controlRequest(socket, { cmd: 'get', key: 'bin' }, DEADLINE_MS)).toEqual({
      ok: true,
      found: true,
      value: '/wA=',
      encoding: 'base64',
    });
    expect(await controlRequest(socket, { cmd: 'delete', key: 'bin' }, DEADLINE_MS)).toMatchObject({
      ok: true,
    });

    const watch = runCli(['watch', '--control', join(data, 'control.sock')]);
    const [get, linearizable, second] = await Promise.all([
      run(['get', 'color', ...member]),
      run(['get', 'color', '--linearizable', ...member]),
      // The socket is refused to a second member, whatever its store.
      run([
        'node',
        '--id',
        'n2',
        '--broker',
        broker.url,
        '--cluster',
        'other',
        '--bootstrap',
        '--control',
        join(data, 'control.sock'),
        ...TIMING,
      ]),
      waitForOutput(watch, /set color = blue\n/, 'the watch to replay the state'),
    ]);
    expect(get).toEqual({ code: 0, stdout: 'blue\n', stderr: '' });
    expect(linearizable).toEqual({ code: 0, stdout: 'blue\n', stderr: '' });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`another member is already running at ${join(data, 'control.sock')}`);

    expect((await run(['set', 'size', 'x l', ...member])).code).toBe(0);
    expect((await run(['del', 'color', ...member])).code).toBe(0);
    await waitForOutput(watch, /\d+ set size = x l\n\d+ del color\n/, 'the watch to see the live changes');
    watch.child.kill('SIGINT');
    expect(await exitCode(watch)).toBe(0);
    // The replay, the line that ends it, then each live change with its log index.
    const lines =
      /^set color = blue\n--- live after index (\d+) ---\n(\d+) set size = x l\n(\d+) del color\n$/.exec(
        watch.stdout,
      );
    expect(lines, watch.stdout).not.toBeNull();
    const [replayIndex, setIndex, delIndex] = (lines ?? []).slice(1).map(Number);
    expect(setIndex).toBeGreaterThan(replayIndex ?? Number.POSITIVE_INFINITY);
    expect(delIndex).toBeGreaterThan(setIndex ?? Number.POSITIVE_INFINITY);

    const [missing, state, members, status, json] = await Promise.all([
      run(['get', 'color', ...member]),
      run(['state', ...member]),
      run(['members', ...member]),
      run(['status', ...member]),
      run(['status', '--json', ...member]),
    ]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toBe('mqtt-raft get: no value for key color\n');
    expect(state).toEqual({ code: 0, stdout: 'size = x l\n', stderr: '' });
    expect(members.code).toBe(0);
    expect(members.stdout).toMatch(/^n1\s+voter\s+leader\s+last contact 0 ms ago, match \d+, lag 0\n$/);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^role\s+leader$/m);
    expect(status.stdout).toMatch(/^leader\s+n1$/m);
    expect(status.stdout).toMatch(/^members\s+n1 \(voter\)$/m);
    const parsed = JSON.parse(json.stdout) as { ok: boolean; status: { id: string; appliedIndex: number } };
    expect(parsed.ok).toBe(true);
    expect(parsed.status.id).toBe('n1');
    expect(parsed.status.appliedIndex).toBeGreaterThan(0);

    node.child.kill('SIGTERM');
    expect(await exitCode(node)).toBe(0);
    expect(node.stdout).toContain('mqtt-raft node n1: SIGTERM: leaving the group\n');
    expect(node.stdout).toContain('mqtt-raft node n1: stopped\n');
    // Its log (stderr, info and up by default) has no warning and no error.
    expect(node.stderr).not.toMatch(/ (WARN|ERROR) /);
    expect(existsSync(join(data, 'control.sock'))).toBe(false);
  });

  it('says that no member is running when the control socket is missing (exit 1)', async () => {
    const path = join(dir, 'nobody.sock');
    const results = await Promise.all([
      run(['status', '--control', path]),
      run(['set', 'k', 'v', '--control', path]),
      run(['watch', '--control', path]),
      run(['get', 'k', '--data', dir]),
    ]);
    for (const result of results.slice(0, 3)) {
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^mqtt-raft \\w+: no member is running at ${path}\\n$`));
    }
    expect(results[3]?.code).toBe(1);
    expect(results[3]?.stderr).toContain(`no member is running at ${join(dir, 'control.sock')}`);
  });

  it('exits 1 with the reason when the broker is unreachable', async () => {
    const port = await freePort();
    const node = runCli([
      'node',
      '--id',
      'lonely',
      '--broker',
      `mqtt://127.0.0.1:${port}`,
      '--startup-timeout',
      '1000',
    ]);
    expect(await exitCode(node)).toBe(1);
    // After the log lines of the attempt.
    expect(node.stderr).toMatch(/^mqtt-raft node: cannot start member lonely: .*127\.0\.0\.1/m);
  });

  it('exits 2 with the usage for bad arguments', async () => {
    const url = broker.url;
    const cases: [string[], RegExp][] = [
      [[], /^Usage: mqtt-raft <command>/],
      [['bogus'], /unknown command 'bogus'/],
      [
        ['set', 'k', '--control', 'x.sock'],
        /mqtt-raft set: missing <value> \(or --file .*\n\nUsage: mqtt-raft set/,
      ],
      [['get', '--control', 'x.sock'], /missing <key>/],
      [['get', 'k', 'extra', '--control', 'x.sock'], /unexpected argument 'extra'/],
      [
        ['set', 'k', 'v'],
        /say which member to talk to: --control <path>, --data <dir> or \$MQTT_RAFT_CONTROL/,
      ],
      [['status', '--control', 'a.sock', '--data', 'b'], /give --control or --data, not both/],
      [['set', 'k', 'v', '--control', 'x.sock', '--timeout', 'soon'], /--timeout must be a whole number/],
      [['members', '--bogus'], /bogus/],
      [['node', '--broker', url], /--id is required/],
      [['node', '--id', 'a'], /--broker is required/],
      [['node', '--id', 'a', '--broker', url, '--election-timeout', '0'], /--election-timeout must be/],
      [
        ['node', '--id', 'a', '--broker', url, '--username', 'u'],
        /--username and --password must be given together/,
      ],
      [['broker', '--port', '70000'], /--port must be an integer from 0 to 65535/],
      [['node', '--id', 'a/b', '--broker', url], /cannot start member a\/b: localId: must not contain/],
      [['node', '--id', 'a', '--broker', 'nope://x'], /cannot start member a: url: must be a URL/],
    ];
    // Four processes at a time: the cases are independent, but sixteen node starts at once on a
    // two-core CI machine (beside other test files) can starve each other past the deadline.
    const pending = [...cases];
    const worker = async () => {
      for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
        const [args, message] = next;
        const result = await run(args);
        const what = `for ${JSON.stringify(args)}`;
        expect(result.code, what).toBe(2);
        expect(result.stderr, what).toMatch(message);
        expect(result.stdout, what).not.toMatch(/ready|OK/);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }, 120_000);
});
