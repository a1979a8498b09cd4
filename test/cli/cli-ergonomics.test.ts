/**
 * The command line as scripts use it, against a real member process on the embedded broker:
 * values from files and standard input, values starting with '-', exit codes per class of error,
 * errors as JSON, unambiguous text, the indexes and the live line of `watch`, help, version and
 * environment variables.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningBroker } from '../../broker/index.js';
import { MAX_VALUE_BYTES } from '../../src/cli/control-protocol.js';
import type { Cli } from '../support/cli-process.js';
import { FAST_RAFT, useCliFixture } from '../support/cli-runner.js';
import { freePort } from '../support/ports.js';

/** Every child compiles the CLI with tsx on start, on a machine shared with other test files. */
const DEADLINE_MS = 30_000;
const TEST_MS = 180_000;
const TIMING = FAST_RAFT;

const { cli, broker: brokerOf, dir: dirOf } = useCliFixture('mqtt-raft-cli-ergo-', DEADLINE_MS);
let broker: RunningBroker;
let dir: string;
let member: string[];
let node: Cli;

beforeAll(async () => {
  broker = brokerOf();
  dir = dirOf();
  const data = join(dir, 'a');
  const where = ['--cluster', 'ergo', '--data', data];
  node = cli.start(['node', '--id', 'a', '--broker', broker.url, ...where, '--bootstrap', ...TIMING]);
  await cli.waitForOutput(node, /ready; control socket/, 'the member to be ready');
  await cli.waitForOutput(node, /leader: a \(this member\)/, 'the member to lead');
  member = ['--data', data];
}, TEST_MS);

describe('mqtt-raft set: where values come from', () => {
  it(
    'takes a value from a file or standard input, byte for byte, and values that start with "-"',
    async () => {
      // Far beyond what a command line holds (the shell refuses arguments of about 128 KiB).
      const binary = randomBytes(MAX_VALUE_BYTES - 1000);
      await writeFile(join(dir, 'blob'), binary);
      await writeFile(join(dir, 'huge'), Buffer.alloc(MAX_VALUE_BYTES + 1, 0x61));
      const [fromFile, fromStdin, negative, dashed, huge] = await Promise.all([
        cli.run(['set', 'blob', '--file', join(dir, 'blob'), ...member]),
        cli.run(['set', 'multi', '-', ...member], { input: Buffer.from('line one\nline two\n') }),
        cli.run(['set', 'temp', '-5', ...member]),
        cli.run(['set', 'flag', ...member, '--', '--not-an-option']),
        cli.run(['set', 'huge', '--file', join(dir, 'huge'), ...member]),
      ]);
      for (const result of [fromFile, fromStdin, negative, dashed]) {
        expect(result, JSON.stringify(result)).toMatchObject({
          code: 0,
          stdout: expect.stringMatching(/^OK \(index \d+\)\n$/),
        });
      }
      expect(huge.code).toBe(2);
      expect(huge.stderr).toContain(`the value is larger than ${MAX_VALUE_BYTES} bytes`);

      const [blob, temp, flag, state] = await Promise.all([
        cli.run(['get', 'blob', '--json', ...member]),
        cli.run(['get', 'temp', ...member]),
        cli.run(['get', 'flag', ...member]),
        cli.run(['state', ...member]),
      ]);
      const stored = JSON.parse(blob.stdout) as { value: string; encoding: string };
      expect(stored.encoding).toBe('base64');
      expect(Buffer.from(stored.value, 'base64').equals(binary)).toBe(true);
      expect(temp.stdout).toBe('-5\n');
      expect(flag.stdout).toBe('--not-an-option\n');
      // One line per key, whatever the value holds.
      expect(state.stdout.split('\n')).toEqual([
        expect.stringMatching(/^blob = base64:/),
        'flag = --not-an-option',
        'multi = "line one\\nline two\\n"',
        'temp = -5',
        '',
      ]);
    },
    TEST_MS,
  );
});

describe('mqtt-raft: exit codes and --json', () => {
  it(
    'exits 2 for anything invalid, 1 for a failure, 3 for no value; with --json every error is a JSON line',
    async () => {
      const nowhere = join(dir, 'nobody.sock');
      const [emptyKey, longKey, missing, emptyJson, usageJson, noMemberJson, noMember] = await Promise.all([
        cli.run(['set', '', 'v', ...member]),
        cli.run(['get', 'x'.repeat(2000), ...member]),
        cli.run(['get', 'never-set', ...member]),
        cli.run(['set', '', 'v', '--json', ...member]),
        cli.run(['get', 'k', 'extra', '--json', ...member]),
        cli.run(['status', '--json', '--control', nowhere]),
        cli.run(['status', '--control', nowhere]),
      ]);
      expect(emptyKey.code).toBe(2);
      expect(emptyKey.stderr).toBe('mqtt-raft set: BAD_REQUEST: key: must be a non-empty string\n');
      expect(longKey.code).toBe(2);
      expect(longKey.stderr).toContain('key: must be at most 1024 characters');
      expect(missing).toEqual({ code: 3, stdout: '', stderr: 'mqtt-raft get: no value for key never-set\n' });
      expect(emptyJson.code).toBe(2);
      expect(JSON.parse(emptyJson.stdout)).toEqual({
        ok: false,
        error: { code: 'BAD_REQUEST', message: 'key: must be a non-empty string' },
      });
      expect(usageJson).toEqual({
        code: 2,
        stdout: `${JSON.stringify({ ok: false, error: { code: 'USAGE', message: "unexpected argument 'extra'" } })}\n`,
        stderr: '',
      });
      expect(noMemberJson).toEqual({
        code: 1,
        stdout: `${JSON.stringify({ ok: false, error: { code: 'NO_MEMBER', message: `no member is running at ${nowhere}` } })}\n`,
        stderr: '',
      });
      expect(noMember).toEqual({
        code: 1,
        stdout: '',
        stderr: `mqtt-raft status: no member is running at ${nowhere}\n`,
      });
    },
    TEST_MS,
  );
});

describe('mqtt-raft watch', () => {
  it(
    'prints the replay, a live line with its index, then each change with its index; --from-index resumes',
    async () => {
      await cli.run(['set', 'w', 'before', ...member]);
      const watch = cli.start(['watch', ...member]);
      const [, replayIndex] = await cli.waitForOutput(
        watch,
        /--- live after index (\d+) ---\n/,
        'the live line',
      );
      const set = await cli.run(['set', 'w', 'two\nlines', ...member]);
      const [, answered] = /^OK \(index (\d+)\)\n$/.exec(set.stdout) ?? [];
      const [, index] = await cli.waitForOutput(watch, /\n(\d+) set w = "two\\nlines"\n$/, 'the live change');
      watch.child.kill('SIGINT');
      expect(await cli.exitCode(watch)).toBe(0);
      expect(Number(index)).toBeGreaterThan(Number(replayIndex));
      // The answer names the entry's index, or that of a re-sent copy recognised as a duplicate.
      expect(Number(index)).toBeLessThanOrEqual(Number(answered));
      expect(watch.stdout).toContain('set w = before\n');

      // Resuming after the last change misses nothing: no replay, then the next change.
      const resumed = cli.start(['watch', '--from-index', String(index), ...member]);
      await cli.waitForOutput(resumed, /^--- live after index \d+ ---\n$/, 'the resumed watch');
      expect((await cli.run(['del', 'w', ...member])).code).toBe(0);
      await cli.waitForOutput(resumed, /---\n\d+ del w\n$/, 'the change after the resume');
      resumed.child.kill('SIGINT');
      expect(await cli.exitCode(resumed)).toBe(0);

      const [gone, membersFrom] = await Promise.all([
        cli.run(['watch', '--from-index', String(index), ...member]),
        cli.run(['watch', '--members', '--from-index', '1', ...member]),
      ]);
      expect(gone.code).toBe(1);
      expect(gone.stderr).toMatch(/^mqtt-raft watch: UNSUPPORTED: changes after index \d+ are not available/);
      expect(membersFrom.code).toBe(2);
      expect(membersFrom.stderr).toContain('--from-index is for a watch of the state');
    },
    TEST_MS,
  );
});

describe('mqtt-raft: help, version, environment, broker URL', () => {
  it(
    'help <command> is <command> --help; --version prints the package version',
    async () => {
      const [help, flag, version] = await Promise.all([
        cli.run(['help', 'set']),
        cli.run(['set', '--help']),
        cli.run(['--version']),
      ]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Usage: mqtt-raft set <key> <value>/);
      expect(help.stdout).toContain('--file <path>');
      expect(help).toEqual(flag);
      const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version: string;
      };
      expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    },
    TEST_MS,
  );

  it(
    'node takes every option from MQTT_RAFT_* variables; the command line wins',
    async () => {
      const data = join(dir, 'env');
      const fromEnv = cli.start(['node', '--cluster', 'env-flag', ...TIMING], {
        env: {
          MQTT_RAFT_ID: 'e',
          MQTT_RAFT_BROKER: broker.url,
          MQTT_RAFT_CLUSTER: 'env-var',
          MQTT_RAFT_DATA: data,
          MQTT_RAFT_BOOTSTRAP: 'true',
          MQTT_RAFT_STARTUP_TIMEOUT: '60000',
        },
      });
      await cli.waitForOutput(
        fromEnv,
        /ready; control socket (.+)\n/,
        'the member started from the environment',
      );
      expect(fromEnv.stdout).toContain(
        `starting (broker ${broker.url}, cluster env-flag, data ${data}, bootstrap)`,
      );
      expect(fromEnv.stdout).toContain(`ready; control socket ${join(data, 'control.sock')}`);
      fromEnv.child.kill('SIGTERM');
      expect(await cli.exitCode(fromEnv)).toBe(0);

      const bad = await cli.run(['node', '--id', 'x', '--broker', broker.url], {
        env: { MQTT_RAFT_BOOTSTRAP: 'maybe' },
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("$MQTT_RAFT_BOOTSTRAP must be 1, true, yes, 0, false or no, got 'maybe'");
    },
    TEST_MS,
  );

  it(
    'refuses a broker URL without a host before creating the data directory, and names a refused connection at once',
    async () => {
      const data = join(dir, 'never');
      const port = await freePort();
      const [noHost, refused] = await Promise.all([
        cli.run(['node', '--id', 'u', '--broker', 'mqtt://', '--data', data]),
        // A startup timeout far beyond the test's deadline: the refusal must come from the connection.
        cli.run(['node', '--id', 'r', '--broker', `mqtt://127.0.0.1:${port}`, '--startup-timeout', '600000']),
      ]);
      expect(noHost.code).toBe(2);
      expect(noHost.stderr).toMatch(
        /^mqtt-raft node: cannot start member u: url: must name the broker's host/,
      );
      expect(existsSync(data)).toBe(false);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`MQTT broker mqtt://127.0.0.1:${port}: refused: connection refused`);
    },
    TEST_MS,
  );
});
