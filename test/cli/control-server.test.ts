import { mkdtemp, rm, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  IndexedObserveOptions,
  Input,
  MemberCallOptions,
  MemberChangeResult,
  MemberInfo,
  MembershipChange,
  RemoveMemberOptions,
} from '../../src/binding/index.js';
import {
  MAX_KEY_LENGTH as LIBRARY_MAX_KEY,
  MAX_VALUE_BYTES as LIBRARY_MAX_VALUE,
} from '../../src/binding/input.js';
import { encodeProposal } from '../../src/binding/proposal.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import { controlRequest, controlWatch } from '../../src/cli/control-client.js';
import {
  type ControlResponse,
  MAX_KEY_LENGTH,
  MAX_REQUEST_BYTES,
  MAX_VALUE_BYTES,
} from '../../src/cli/control-protocol.js';
import { type ControlServer, type ControlTarget, startControlServer } from '../../src/cli/control-server.js';
import { RaftError } from '../../src/errors.js';
import { waitFor } from '../support/wait.js';

const MS = 5000;
const text = new TextEncoder();

/** A stand-in member: a real RaftFsm fed one entry per proposal, a membership feed and a scripted failure. */
class FakeMember implements ControlTarget {
  readonly fsm = new RaftFsm();
  fail: RaftError | null = null;
  index = 0;

  async proposeInput(input: Input): Promise<{ index: number }> {
    if (this.fail !== null) throw this.fail;
    this.index += 1;
    const data = encodeProposal({ member: 'fake', seq: this.index, input });
    this.fsm.apply({ index: this.index, term: 2, type: 'command', data });
    return { index: this.index };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.fsm.get(key);
  }

  async getIndexedState() {
    return this.fsm.capture();
  }

  observeIndexedStateChange(options: IndexedObserveOptions = {}) {
    return this.fsm.observeIndexed(options);
  }

  /** Set: the member reports itself stopped by this failure. */
  stopCause: string | null = null;

  status() {
    return {
      ...(this.stopCause === null ? {} : { stopCause: this.stopCause }),
      id: 'a',
      role: this.stopCause === null ? 'leader' : 'stopped',
      leader: 'a',
      term: 2,
      commitIndex: this.index,
      appliedIndex: this.index,
      members: [
        { id: 'a', suffrage: 'voter' },
        { id: 'b', suffrage: 'nonvoter' },
      ],
    };
  }

  members(): MemberInfo[] {
    return [
      { id: 'a', role: 'voter', leader: true, health: { lastContactMs: 0, matchIndex: 9, lag: 0 } },
      { id: 'b', role: 'nonvoter', leader: false, health: { lastContactMs: null, matchIndex: 0, lag: 9 } },
    ];
  }

  /** The member calls received, with their arguments. */
  readonly calls: unknown[][] = [];

  private async change(call: unknown[]): Promise<MemberChangeResult> {
    if (this.fail !== null) throw this.fail;
    this.calls.push(call);
    return { index: 10, warnings: call[0] === 'removeMember' ? ['the group keeps 1 voter'] : [] };
  }

  removeMember(id: string, options: RemoveMemberOptions = {}): Promise<MemberChangeResult> {
    return this.change(['removeMember', id, options]);
  }

  addNonvoter(id: string, options: MemberCallOptions = {}): Promise<MemberChangeResult> {
    return this.change(['addNonvoter', id, options]);
  }

  promote(id: string, options: MemberCallOptions = {}): Promise<MemberChangeResult> {
    return this.change(['promote', id, options]);
  }

  demote(id: string, options: RemoveMemberOptions = {}): Promise<MemberChangeResult> {
    return this.change(['demote', id, options]);
  }

  async transferLeadership(id?: string, options: MemberCallOptions = {}): Promise<{ leader: string | null }> {
    this.calls.push(['transferLeadership', id, options]);
    return { leader: id ?? null };
  }

  observeMembershipChange(options: { signal?: AbortSignal } = {}): AsyncIterable<MembershipChange> {
    const { signal } = options;
    return (async function* () {
      yield { id: 'a', joined: true };
      yield { id: 'b', joined: true };
      // Then nothing changes until the watcher leaves.
      await new Promise((resolve) => signal?.addEventListener('abort', resolve));
    })();
  }

  /** Ends every state observer, as a closing binding does. */
  endObservers(): void {
    this.fsm.closeObservers();
  }
}

let dir: string;
let path: string;
let member: FakeMember;
let server: ControlServer;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-ctl-'));
  path = join(dir, 'control.sock');
  member = new FakeMember();
  server = await startControlServer(path, member);
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the control server', () => {
  it('answers each request with one line, echoing ids', async () => {
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await controlRequest(path, { id: 'x', cmd: 'set', key: 'k', value: 'v' }, MS)).toEqual({
      id: 'x',
      ok: true,
      index: 1,
    });
    expect(await controlRequest(path, { cmd: 'get', key: 'k' }, MS)).toEqual({
      ok: true,
      found: true,
      value: 'v',
      encoding: 'utf8',
    });
    expect(await controlRequest(path, { cmd: 'get', key: 'nope' }, MS)).toEqual({ ok: true, found: false });
    await controlRequest(path, { cmd: 'set', key: 'a', value: '/w==', encoding: 'base64' }, MS);
    expect(member.fsm.get('a')).toEqual(new Uint8Array([0xff]));
    expect(await controlRequest(path, { cmd: 'state' }, MS)).toEqual({
      ok: true,
      index: 2,
      entries: [
        { key: 'a', value: '/w==', encoding: 'base64' },
        { key: 'k', value: 'v', encoding: 'utf8' },
      ],
    });
    expect(await controlRequest(path, { cmd: 'members' }, MS)).toEqual({
      ok: true,
      members: [
        { id: 'a', suffrage: 'voter', leader: true, health: { lastContactMs: 0, matchIndex: 9, lag: 0 } },
        {
          id: 'b',
          suffrage: 'nonvoter',
          leader: false,
          health: { lastContactMs: null, matchIndex: 0, lag: 9 },
        },
      ],
    });
    expect(await controlRequest(path, { cmd: 'status' }, MS)).toMatchObject({
      ok: true,
      status: { id: 'a', term: 2 },
    });
    expect(await controlRequest(path, { cmd: 'del', key: 'k' }, MS)).toEqual({ ok: true, index: 3 });
  });

  it("adds the group's settings to the state, in key order, only when it has some", async () => {
    await controlRequest(path, { cmd: 'set', key: 'k', value: 'v' }, MS);
    for (const [seq, key, value] of [
      [10, 'voters', '3'],
      [11, 'eligible/a', '1'],
    ] as const) {
      const data = encodeProposal({
        member: 'admin',
        seq,
        input: { op: 'setting', key, value: text.encode(value) },
      });
      member.fsm.apply({ index: seq, term: 2, type: 'command', data });
    }
    expect(await controlRequest(path, { cmd: 'state' }, MS)).toEqual({
      ok: true,
      index: 11,
      entries: [{ key: 'k', value: 'v', encoding: 'utf8' }],
      settings: [
        { key: 'eligible/a', value: '1', encoding: 'utf8' },
        { key: 'voters', value: '3', encoding: 'utf8' },
      ],
    });
  });

  it('passes member changes to the member with their options, and answers with index and warnings', async () => {
    expect(
      await controlRequest(
        path,
        { id: 4, cmd: 'remove-member', member: 'c', force: true, timeoutMs: 700 },
        MS,
      ),
    ).toEqual({ id: 4, ok: true, index: 10, warnings: ['the group keeps 1 voter'] });
    expect(await controlRequest(path, { cmd: 'add-nonvoter', member: 'd' }, MS)).toEqual({
      ok: true,
      index: 10,
      warnings: [],
    });
    await controlRequest(path, { cmd: 'promote', member: 'd' }, MS);
    await controlRequest(path, { cmd: 'demote', member: 'b' }, MS);
    expect(await controlRequest(path, { cmd: 'transfer-leadership', member: 'b' }, MS)).toEqual({
      ok: true,
      leader: 'b',
    });
    expect(await controlRequest(path, { cmd: 'transfer-leadership' }, MS)).toEqual({
      ok: true,
      leader: null,
    });
    expect(member.calls).toEqual([
      ['removeMember', 'c', { timeoutMs: 700, force: true }],
      ['addNonvoter', 'd', {}],
      ['promote', 'd', {}],
      ['demote', 'b', { force: false }],
      ['transferLeadership', 'b', {}],
      ['transferLeadership', undefined, {}],
    ]);
    expect((await exchange('{"cmd":"remove-member"}\n', 1))[0]).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', message: 'member: Invalid input: expected string, received undefined' },
    });
    member.fail = new RaftError('INVALID_INPUT', 'removeMember: x is not a member of the group');
    expect(await controlRequest(path, { cmd: 'remove-member', member: 'x' }, MS)).toEqual({
      ok: false,
      error: { code: 'INVALID_INPUT', message: 'removeMember: x is not a member of the group' },
    });
  });

  it('answers several requests on one connection in order', async () => {
    const lines = await exchange(
      '{"id":1,"cmd":"set","key":"k","value":"1"}\n{"id":2,"cmd":"get","key":"k"}\r\n\n{"id":3,"cmd":"nope"}\n',
      3,
    );
    expect(lines[0]).toEqual({ id: 1, ok: true, index: 1 });
    expect(lines[1]).toEqual({ id: 2, ok: true, found: true, value: '1', encoding: 'utf8' });
    expect(lines[2]).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });

  it('reports errors with their code and flags', async () => {
    member.fail = new RaftError('TIMEOUT', 'apply: timed out', { indefinite: true, retryable: true });
    expect(await controlRequest(path, { cmd: 'set', key: 'k', value: 'v' }, MS)).toEqual({
      ok: false,
      error: { code: 'TIMEOUT', message: 'apply: timed out', retryable: true, indefinite: true },
    });
    member.stopCause = 'disk full';
    expect(await controlRequest(path, { cmd: 'status' }, MS)).toMatchObject({
      ok: true,
      status: { role: 'stopped', stopCause: 'disk full' },
    });
    const bad = await exchange('{"cmd":"set","key":"","value":"v"}\n', 1);
    expect(bad[0]).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', message: 'key: must be a non-empty string' },
    });
  });

  it('refuses an over-long line and closes the connection', async () => {
    const lines = await exchange(`{"cmd":"set","key":"k","value":"${'x'.repeat(MAX_REQUEST_BYTES)}"}\n`, 1);
    expect(lines[0]).toMatchObject({
      ok: false,
      error: { code: 'BAD_REQUEST', message: expect.stringMatching(/longer than/) },
    });
  });

  it('streams a replay then live changes to a watcher, and ends it with SHUTDOWN on stop', async () => {
    await member.proposeInput({ op: 'set', key: 'b', value: text.encode('2') });
    await member.proposeInput({ op: 'set', key: 'a', value: text.encode('1') });
    const seen: Array<Extract<ControlResponse, { ok: true }>> = [];
    const ended = controlWatch(path, { cmd: 'watch' }, (line) => seen.push(line));
    await waitFor(() => seen.length === 4, MS, 'the acknowledgement, the replay and the live line');
    await member.proposeInput({ op: 'delete', key: 'a' });
    await waitFor(() => seen.length === 5, MS, 'the live change');
    expect(seen).toEqual([
      { ok: true, watching: 'state', index: 2 },
      { ok: true, change: { index: 2, op: 'set', key: 'a', value: '1', encoding: 'utf8' } },
      { ok: true, change: { index: 2, op: 'set', key: 'b', value: '2', encoding: 'utf8' } },
      { ok: true, live: true },
      { ok: true, change: { index: 3, op: 'delete', key: 'a' } },
    ]);
    server.stop();
    expect(await ended).toEqual({
      reason: 'refused',
      response: { ok: false, error: { code: 'SHUTDOWN', message: 'the member is shutting down' } },
    });
    await expect(controlRequest(path, { cmd: 'status' }, MS)).rejects.toThrow(
      `no member is running at ${path}`,
    );
  });

  it('tells a watcher when the member stops, and stops observing when the watcher leaves', async () => {
    const seen: unknown[] = [];
    const ended = controlWatch(path, { cmd: 'watch' }, (line) => seen.push(line));
    await waitFor(() => seen.length === 2, MS, 'the acknowledgement and the live line');
    expect(seen).toEqual([
      { ok: true, watching: 'state', index: 0 },
      { ok: true, live: true },
    ]);
    member.endObservers();
    expect(await ended).toMatchObject({ reason: 'refused', response: { error: { code: 'SHUTDOWN' } } });

    const controller = new AbortController();
    const aborted = controlWatch(
      path,
      { cmd: 'watch', target: 'members' },
      (line) => seen.push(line),
      controller.signal,
    );
    await waitFor(() => seen.length === 6, MS, 'the membership replay');
    expect(seen.slice(2)).toEqual([
      { ok: true, watching: 'members' },
      { ok: true, member: { id: 'a', joined: true } },
      { ok: true, member: { id: 'b', joined: true } },
      { ok: true, live: true },
    ]);
    controller.abort();
    expect(await aborted).toEqual({ reason: 'aborted' });
  });
});

describe('the control server: resuming a watch, and the limits', () => {
  it('resumes a watch from an index without a replay, and refuses one whose changes are gone', async () => {
    await member.proposeInput({ op: 'set', key: 'k', value: text.encode('1') });
    const seen: Array<Extract<ControlResponse, { ok: true }>> = [];
    const controller = new AbortController();
    const watching = controlWatch(
      path,
      { cmd: 'watch', fromIndex: 1 },
      (l) => seen.push(l),
      controller.signal,
    );
    await waitFor(() => seen.length === 2, MS, 'the acknowledgement and the live line');
    await member.proposeInput({ op: 'set', key: 'k', value: text.encode('2') });
    await waitFor(() => seen.length === 3, MS, 'the live change');
    expect(seen).toEqual([
      { ok: true, watching: 'state', index: 1 },
      { ok: true, live: true },
      { ok: true, change: { index: 2, op: 'set', key: 'k', value: '2', encoding: 'utf8' } },
    ]);
    controller.abort();
    await watching;
    const refused = await controlWatch(path, { id: 9, cmd: 'watch', fromIndex: 1 }, () => undefined);
    expect(refused).toMatchObject({
      reason: 'refused',
      response: {
        id: 9,
        ok: false,
        error: { code: 'UNSUPPORTED', message: expect.stringContaining('index 2') },
      },
    });
    expect(await exchange('{"cmd":"watch","target":"members","fromIndex":1}\n', 1)).toEqual([
      {
        ok: false,
        error: { code: 'BAD_REQUEST', message: 'fromIndex: only a watch of the state takes fromIndex' },
      },
    ]);
  });

  it('takes a value at the library limit with every byte escaped, and refuses keys beyond the limit', async () => {
    // Control characters: JSON writes each of the 1 MiB bytes as six (\u0001).
    const value = '\u0001'.repeat(MAX_VALUE_BYTES);
    const line = JSON.stringify({ cmd: 'set', key: 'k', value });
    expect(Buffer.byteLength(line)).toBeGreaterThan(6 * MAX_VALUE_BYTES);
    expect(await exchange(`${line}\n`, 1)).toEqual([{ ok: true, index: 1 }]);
    expect(member.fsm.get('k')?.byteLength).toBe(MAX_VALUE_BYTES);
    expect(await controlRequest(path, { cmd: 'get', key: 'x'.repeat(MAX_KEY_LENGTH + 1) }, MS)).toEqual({
      ok: false,
      error: { code: 'BAD_REQUEST', message: `key: must be at most ${MAX_KEY_LENGTH} characters` },
    });
    // The protocol's copies of the limits are the library's.
    expect([MAX_KEY_LENGTH, MAX_VALUE_BYTES]).toEqual([LIBRARY_MAX_KEY, LIBRARY_MAX_VALUE]);
  });
});

/** Writes raw text and collects `count` response lines. */
function exchange(raw: string, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      const lines = received.split('\n').filter((line) => line !== '');
      if (received.endsWith('\n') && lines.length >= count) {
        socket.destroy();
        resolve(lines.map((line) => JSON.parse(line)));
      }
    });
    socket.on('error', reject);
    socket.write(raw);
  });
}
