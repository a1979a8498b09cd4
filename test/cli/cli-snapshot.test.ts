/**
 * Backups with real processes on the embedded broker: `snapshot save` from a running member,
 * `snapshot restore` into a fresh data directory, and a new group started from it.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { FAST_RAFT, useCliFixture } from '../support/cli-runner.js';

const DEADLINE_MS = 30_000;
const TEST_MS = 240_000;
const { cli, broker: brokerOf, dir: dirOf } = useCliFixture('mqtt-raft-cli-backup-', DEADLINE_MS);
const TIMING = FAST_RAFT;

/** Starts a member and waits until it leads. */
async function leader(id: string, cluster: string, data: string, bootstrap: string[]) {
  const node = cli.start([
    'node',
    '--id',
    id,
    '--cluster',
    cluster,
    '--broker',
    brokerOf().url,
    '--data',
    data,
    ...bootstrap,
    ...TIMING,
  ]);
  await cli.waitForOutput(node, /ready; control socket/, `${id} to be ready`);
  await cli.waitForOutput(node, new RegExp(`leader: ${id} \\(this member\\)`), `${id} to lead`);
  return node;
}

it(
  'snapshot save writes the state of a running member; restore starts a new group holding it',
  async () => {
    const dir = dirOf();
    const old = join(dir, 'old');
    // With a voter budget: the group's settings must survive the backup too.
    const oldNode = await leader('a', 'before', old, ['--bootstrap', '--voters', '3']);
    const binary = randomBytes(300_000);
    await writeFile(join(dir, 'bin'), binary);
    await Promise.all([
      cli.run(['set', 'color', 'blue', '--data', old]),
      cli.run(['set', 'bin', '--file', join(dir, 'bin'), '--data', old]),
    ]);
    const file = join(dir, 'backup.mrb');
    const saved = await cli.run(['snapshot', 'save', file, '--data', old]);
    expect(saved.stderr).toBe('');
    const [, keys, index] = /^saved (\d+) keys at index (\d+) to (.+)\n$/.exec(saved.stdout) ?? [];
    expect([saved.code, keys]).toEqual([0, '2']);
    oldNode.child.kill('SIGTERM');
    expect(await cli.exitCode(oldNode)).toBe(0);

    const fresh = join(dir, 'new');
    const restored = await cli.run(['snapshot', 'restore', file, '--data', fresh, '--id', 'r', '--json']);
    expect(restored).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(restored.stdout)).toEqual({ ok: true, index: Number(index), keys: 2, data: fresh });
    // Into a directory that has state already: refused, nothing changed.
    const again = await cli.run(['snapshot', 'restore', file, '--data', fresh, '--id', 'r']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('the store already holds Raft state');

    // The new group: its only member leads at once, with the state, and takes writes after the backup's index.
    const newNode = await leader('r', 'after', fresh, []);
    const [color, bin, set, state] = await Promise.all([
      cli.run(['get', 'color', '--data', fresh, '--linearizable']),
      cli.run(['get', 'bin', '--data', fresh, '--json']),
      cli.run(['set', 'new', 'key', '--data', fresh]),
      cli.run(['state', '--data', fresh, '--json']),
    ]);
    expect((JSON.parse(state.stdout) as { settings?: unknown }).settings).toEqual([
      { key: 'eligible/a', value: '', encoding: 'utf8' },
      // The restored member, a voter under the budget it found, says it may vote.
      { key: 'eligible/r', value: '', encoding: 'utf8' },
      { key: 'voters', value: '3', encoding: 'utf8' },
    ]);
    expect(color.stdout).toBe('blue\n');
    expect(Buffer.from((JSON.parse(bin.stdout) as { value: string }).value, 'base64').equals(binary)).toBe(
      true,
    );
    const [, setIndex] = /^OK \(index (\d+)\)\n$/.exec(set.stdout) ?? [];
    expect(Number(setIndex)).toBeGreaterThan(Number(index));
    newNode.child.kill('SIGTERM');
    expect(await cli.exitCode(newNode)).toBe(0);

    // A damaged file is refused with its cause.
    const damaged = await readFile(file);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 10) ^ 0xff, damaged.length - 10);
    await writeFile(join(dir, 'damaged.mrb'), damaged);
    const corrupt = await cli.run([
      'snapshot',
      'restore',
      join(dir, 'damaged.mrb'),
      '--data',
      join(dir, 'other'),
      '--id',
      'x',
    ]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toContain('backup: checksum mismatch');
  },
  TEST_MS,
);
