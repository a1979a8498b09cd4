/** `mqtt-raft node` logs (JSON or text, by level) and metrics (`--metrics-port`), as real processes. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OptionValues } from '../../src/cli/args.js';
import { controlRequest } from '../../src/cli/control-client.js';
import { type LogFormat, lineLogger } from '../../src/cli/log-output.js';
import { observabilitySettings } from '../../src/cli/observability-options.js';
import type { LogLevel } from '../../src/logger.js';
import type { Cli } from '../support/cli-process.js';
import { FAST_RAFT, useCliFixture } from '../support/cli-runner.js';
import { freePort } from '../support/ports.js';
import { parsePromText, sampleValue } from '../support/prom-text.js';
import { checkMetrics } from '../support/promtool.js';

/** Generous, because every child compiles the CLI with tsx on start. */
const DEADLINE_MS = 15_000;
const fx = useCliFixture('mqtt-raft-observe-', DEADLINE_MS);

/** Starts a bootstrapping member n1 on a data directory of its own, with `extra` options, and waits until it leads. */
async function leadingMember(name: string, extra: string[]): Promise<{ node: Cli; data: string }> {
  const data = join(fx.dir(), name);
  const member = ['--id', 'n1', '--cluster', name, '--data', data, '--broker', fx.broker().url];
  const node = fx.cli.start(['node', ...member, '--bootstrap', ...FAST_RAFT, ...extra]);
  await fx.cli.waitForOutput(node, /leader: n1 \(this member\)/, 'the member to lead');
  return { node, data };
}

describe('mqtt-raft node: logs and metrics', () => {
  it('serves /metrics on --metrics-port, and logs JSON lines with --log-format json', async () => {
    const port = await freePort();
    const { node, data } = await leadingMember('json', [
      '--metrics-port',
      String(port),
      '--log-format',
      'json',
    ]);
    const url = `http://127.0.0.1:${port}/metrics`;
    expect(node.stdout).toContain(`mqtt-raft node n1: metrics ${url}\n`);
    // Through the control socket from here: three client processes would only add start-up time.
    for (const value of ['red', 'green', 'blue']) {
      const request = { cmd: 'set', key: 'color', value } as const;
      expect(await controlRequest(join(data, 'control.sock'), request, DEADLINE_MS)).toMatchObject({
        ok: true,
      });
    }

    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(await checkMetrics(text)).toEqual({ code: 0, output: '' });
    const families = parsePromText(text);
    expect(sampleValue(families, 'mqtt_raft_role', { role: 'leader' })).toBe(1);
    expect(sampleValue(families, 'mqtt_raft_proposals_total', { outcome: 'applied' })).toBe(3);
    expect(sampleValue(families, 'mqtt_raft_applied_index')).toBeGreaterThanOrEqual(4);
    expect(sampleValue(families, 'mqtt_raft_broker_connected')).toBe(1);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

    node.child.kill('SIGTERM');
    expect(await fx.cli.exitCode(node)).toBe(0);
    const lines = node.stderr
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) {
      expect(line).toMatchObject({ node: 'n1', level: expect.any(String), msg: expect.any(String) });
      expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
    }
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: expect.stringMatching(/^elected leader \(term \d+\)$/),
        role: 'leader',
      }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'info',
        msg: expect.stringMatching(/^membership committed at \d+: n1$/),
      }),
    );
    // The debug level is below the default (info).
    expect(lines.filter((l) => l.level === 'debug')).toEqual([]);
  });

  it('logs timestamped text lines on stderr, and takes --metrics-port 0 (its URL on stdout)', async () => {
    const { node } = await leadingMember('text', ['--metrics-port', '0', '--log-level', 'debug']);
    const [, url] = await fx.cli.waitForOutput(
      node,
      /metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/,
      'the metrics URL',
    );
    const text = await (await fetch(url as string)).text();
    expect(sampleValue(parsePromText(text), 'mqtt_raft_role', { role: 'leader' })).toBe(1);
    node.child.kill('SIGTERM');
    expect(await fx.cli.exitCode(node)).toBe(0);
    const lines = node.stderr.trimEnd().split('\n');
    for (const line of lines) {
      expect(line).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) mqtt-raft node n1: \S/,
      );
    }
    expect(
      lines.some((l) =>
        / INFO {2}mqtt-raft node n1: elected leader \(term \d+\) \{"previous":"follower","role":"leader","term":\d+\}$/.test(
          l,
        ),
      ),
    ).toBe(true);
    // The debug level is written when asked for: the configuration in force before it commits.
    expect(
      lines.some((l) =>
        / DEBUG mqtt-raft node n1: membership in force from 1 \(not committed yet\): n1/.test(l),
      ),
    ).toBe(true);
  });

  it('refuses a bad log option with the usage (exit 2)', async () => {
    const result = await fx.cli.run([
      'node',
      '--id',
      'a',
      '--broker',
      fx.broker().url,
      '--log-format',
      'xml',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /--log-format must be one of json, text, got 'xml'\n\nUsage: mqtt-raft node/,
    );
  });
});

describe('the log and metrics options', () => {
  it('refuses bad values', () => {
    const cases: [OptionValues, RegExp][] = [
      [{ 'log-format': 'xml' }, /--log-format must be one of json, text, got 'xml'/],
      [{ 'log-level': 'loud' }, /--log-level must be one of debug, info, warn, error, got 'loud'/],
      [{ 'metrics-port': '99999' }, /--metrics-port must be an integer from 0 to 65535/],
      [{ 'metrics-port': '-1' }, /--metrics-port must be an integer from 0 to 65535/],
      [{ 'metrics-host': '0.0.0.0' }, /--metrics-host needs --metrics-port/],
      [{ 'metrics-port': '9464', 'metrics-host': '' }, /--metrics-host must not be empty/],
    ];
    for (const [values, message] of cases) {
      expect(() => observabilitySettings(values, 'a'), JSON.stringify(values)).toThrow(message);
    }
  });

  it('serves metrics on 127.0.0.1 unless told otherwise, and only with --metrics-port', () => {
    expect(observabilitySettings({}, 'a').metrics).toBeNull();
    expect(observabilitySettings({ 'metrics-port': '0' }, 'a').metrics).toEqual({
      host: '127.0.0.1',
      port: 0,
    });
    expect(observabilitySettings({ 'metrics-port': '9464', 'metrics-host': '::1' }, 'a').metrics).toEqual({
      host: '::1',
      port: 9464,
    });
  });
});

describe('lineLogger', () => {
  /** A logger at `level` in `format` whose lines are kept, stamped at one fixed time. */
  function capture(format: LogFormat, level: LogLevel) {
    const lines: string[] = [];
    const now = () => new Date(Date.UTC(2025, 4, 1, 10, 0, 0));
    return { lines, logger: lineLogger({ format, level, id: 'a', write: (l) => lines.push(l), now }) };
  }

  it('writes JSON objects with time, level, node and message, the details beside them', () => {
    const { lines, logger } = capture('json', 'info');
    logger.debug({}, 'hidden');
    logger.info({ localId: 'a', term: 2, msg: 'clash' }, 'elected leader (term 2)');
    logger.error({ big: 10n }, 'boom');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        time: '2025-05-01T10:00:00.000Z',
        level: 'info',
        node: 'a',
        msg: 'elected leader (term 2)',
        term: 2,
        'details.msg': 'clash',
      },
      { time: '2025-05-01T10:00:00.000Z', level: 'error', node: 'a', msg: 'boom', big: '10' },
    ]);
  });

  it('writes text lines from the chosen level up, and never throws on details JSON cannot hold', () => {
    const { lines, logger } = capture('text', 'warn');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    logger.info({}, 'hidden');
    logger.warn({}, 'plain');
    logger.error({ cycle }, 'odd');
    expect(lines).toEqual([
      '2025-05-01T10:00:00.000Z WARN  mqtt-raft node a: plain',
      '2025-05-01T10:00:00.000Z ERROR mqtt-raft node a: odd (details not serializable)',
    ]);
  });
});
