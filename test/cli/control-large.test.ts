/**
 * The control protocol against real members (RaftBinding over a local broker, LevelDB): large values
 * go in through one member's socket, through forwarding and replication, and come back out whole.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest, controlWatch } from '../../src/cli/control-client.js';
import { type ControlResponse, MAX_REQUEST_BYTES } from '../../src/cli/control-protocol.js';
import { type ControlServer, startControlServer } from '../../src/cli/control-server.js';
import { BindingGroup } from '../support/binding-group.js';
import { waitFor } from '../support/wait.js';

const MS = 15_000;
const LARGE = 512 * 1024;

let group: BindingGroup | null = null;
let dir: string | null = null;
const servers: ControlServer[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  await group?.shutdown();
  group = null;
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

/** A group of two real members, a (leader) and b, each with a control socket. */
async function twoMembers(): Promise<{ socketOf: (id: string) => string; g: BindingGroup }> {
  group = await BindingGroup.create();
  const g = group;
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-ctl-large-'));
  const base = dir;
  await g.open('a', { bootstrap: true });
  await g.open('b');
  for (const id of ['a', 'b']) servers.push(await startControlServer(join(base, `${id}.sock`), g.member(id)));
  return { socketOf: (id) => join(base, `${id}.sock`), g };
}

describe('the control socket of a real member, with large values', () => {
  it('sets a 512 KiB binary value through a follower and reads it back whole on both members', async () => {
    const { socketOf } = await twoMembers();
    const value = randomBytes(LARGE);
    const encoded = value.toString('base64');
    // The request line stays under the limit: base64 of 512 KiB is about 683 KiB.
    expect(encoded.length).toBeLessThan(MAX_REQUEST_BYTES);
    const set = await controlRequest(
      socketOf('b'),
      { id: 'big', cmd: 'set', key: 'blob', value: encoded, encoding: 'base64', timeoutMs: MS },
      MS,
    );
    expect(set).toMatchObject({ id: 'big', ok: true, index: expect.any(Number) });

    for (const id of ['a', 'b']) {
      const got = await controlRequest(
        socketOf(id),
        { cmd: 'get', key: 'blob', consistency: 'linearizable' },
        MS,
      );
      expect(got).toMatchObject({ ok: true, found: true, encoding: 'base64' });
      const back = Buffer.from((got as { value: string }).value, 'base64');
      expect(back.length).toBe(LARGE);
      expect(back.equals(value)).toBe(true);
    }
  });

  it('sets a 512 KiB text value through the leader; a watcher on the follower gets it whole, and state lists it', async () => {
    const { socketOf } = await twoMembers();
    const seen: Array<Extract<ControlResponse, { ok: true }>> = [];
    const controller = new AbortController();
    const watching = controlWatch(
      socketOf('b'),
      { cmd: 'watch' },
      (line) => seen.push(line),
      controller.signal,
    );
    await waitFor(() => seen.length >= 1, MS, 'the watch acknowledgement');
    const text = 'é'.repeat(LARGE / 2);
    expect(Buffer.byteLength(text)).toBe(LARGE);
    const set = await controlRequest(
      socketOf('a'),
      { cmd: 'set', key: 'doc', value: text, timeoutMs: MS },
      MS,
    );
    expect(set).toMatchObject({ ok: true, index: expect.any(Number) });
    await waitFor(() => seen.some((line) => line.change?.key === 'doc'), MS, 'the change on the watcher');
    expect(seen.find((line) => line.change?.key === 'doc')).toEqual({
      ok: true,
      change: { index: expect.any(Number), op: 'set', key: 'doc', value: text, encoding: 'utf8' },
    });
    // Applied at its entry's index; the answer may name a later index, that of a re-sent copy the
    // group recognised as a duplicate (so never an earlier one).
    const applied = seen.find((line) => line.change?.key === 'doc')?.change?.index ?? Number.NaN;
    expect(applied).toBeLessThanOrEqual(set.ok ? (set.index ?? 0) : 0);
    const state = await controlRequest(socketOf('b'), { cmd: 'state', consistency: 'linearizable' }, MS);
    expect(state).toEqual({
      ok: true,
      index: expect.any(Number),
      entries: [{ key: 'doc', value: text, encoding: 'utf8' }],
    });
    controller.abort();
    expect(await watching).toEqual({ reason: 'aborted' });
  });
});
