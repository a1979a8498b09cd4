import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError, RaftBinding, RaftError, type Transport } from '../../src/index.js';
import { BindingGroup, collect, FAST_BINDING, set, textState } from '../support/binding-group.js';
import { BROKER_KINDS } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

let group: BindingGroup | null = null;

afterEach(async () => {
  await group?.shutdown();
  group = null;
});

describe.each(BROKER_KINDS)('RaftBinding under faults (%s)', (kind) => {
  it('restarts every member from disk with its state intact', async () => {
    group = await BindingGroup.create(kind);
    const g = group;
    await g.open('a', { bootstrap: true });
    await g.open('b');
    await g.open('c');
    for (let i = 0; i < 10; i++)
      await g.member(['a', 'b', 'c'][i % 3] as string).proposeInput(set(`k${i}`, `${i}`));
    const expected = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, `${i}`]));
    await g.converge(expected);
    for (const id of ['a', 'b', 'c']) await g.member(id).close({ leave: false });
    for (const id of ['a', 'b', 'c']) await g.open(id);
    await g.converge(expected);
    await g.member('b').proposeInput(set('after', 'restart'));
    await g.converge({ ...expected, after: 'restart' });
  }, 30_000);

  it('a member that catches up by snapshot emits the state it missed', async () => {
    group = await BindingGroup.create(kind);
    const g = group;
    const a = await g.open('a', { bootstrap: true, snapshotThreshold: 5, trailingLogs: 1 });
    for (let i = 0; i < 30; i++) await a.proposeInput(set(`k${i % 7}`, `${i}`));
    await a.proposeInput({ op: 'delete', key: 'k0' });
    const b = await g.open('b', { snapshotThreshold: 5, trailingLogs: 1 });
    const seen = collect(b.observeStateChange());
    const expected = textState(await a.getState());
    await waitFor(() => seen.items.length >= expected.length, 5000, 'b replays the state');
    const replayed = new Map<string, string>();
    for (const input of seen.items) {
      if (input.op === 'set') replayed.set(input.key, new TextDecoder().decode(input.value));
      else replayed.delete(input.key);
    }
    expect([...replayed].sort()).toEqual(expected);
    expect(replayed.has('k0')).toBe(false);
  }, 30_000);

  it('a proposal retried after a lost answer is applied once', async () => {
    group = await BindingGroup.create(kind);
    const g = group;
    const a = await g.open('a', { bootstrap: true });
    const b = await g.open('b');
    const changes = collect(a.observeStateChange());
    // b's first forward commits, but its answer is lost: the node sees an indefinite TIMEOUT and
    // sends the proposal again; the FSM's dedupe must apply it once.
    const transport = (b as unknown as { raft: { transport: Transport } }).raft.transport;
    const realForward = transport.forward.bind(transport);
    let calls = 0;
    transport.forward = async (to, request, options) => {
      calls++;
      const answer = await realForward(to, request, options);
      if (calls === 1) throw new RaftError('TIMEOUT', 'answer lost', { indefinite: true, retryable: true });
      return answer;
    };
    await b.proposeInput(set('once', 'x'));
    expect(calls).toBe(2);
    await b.proposeInput(set('fence', 'y'));
    await waitFor(() => changes.items.some((i) => i.key === 'fence'), 5000, 'the fence is observed');
    expect(changes.items.filter((i) => i.key === 'once')).toHaveLength(1);
  }, 30_000);

  it('a stalled observer does not stop progress, and learns it fell behind', async () => {
    group = await BindingGroup.create(kind);
    const g = group;
    const a = await g.open('a', { bootstrap: true, observerQueueLimit: 5 });
    const b = await g.open('b', { observerQueueLimit: 5 });
    const stalled = a.observeStateChange()[Symbol.asyncIterator]();
    for (let i = 0; i < 30; i++) await b.proposeInput(set(`k${i}`, 'v'));
    await g.converge(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, 'v'])));
    let err: unknown = null;
    for (let i = 0; i < 40 && err === null; i++)
      err = await stalled.next().then(
        () => null,
        (e: unknown) => e,
      );
    expect(isRaftError(err, 'OBSERVER_OVERFLOW')).toBe(true);
  }, 30_000);

  it('rejects invalid input before proposing and fails calls after close with SHUTDOWN', async () => {
    group = await BindingGroup.create(kind);
    const a = await group.open('a', { bootstrap: true });
    await expect(a.proposeInput({ op: 'set', key: '', value: new Uint8Array() })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await a.close();
    await expect(a.proposeInput(set('x', 'y'))).rejects.toMatchObject({ code: 'SHUTDOWN' });
  });
});

// Counts the broker's clients, which only the embedded broker tells.
describe('RaftBinding under faults (aedes only)', () => {
  it('open without a leader times out cleanly, leaving nothing connected', async () => {
    group = await BindingGroup.create('aedes');
    const aedes = group.broker.aedes;
    if (aedes === null) throw new Error('the aedes broker is not running');
    const lonely = new RaftBinding({
      id: 'lonely',
      broker: group.broker.url,
      cluster: 'nobody-here',
      ...FAST_BINDING,
      startupTimeout: 500,
    });
    const started = Date.now();
    const err = await lonely.open().catch((e: unknown) => e);
    expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    await waitFor(() => aedes.clients() === 0, 3000, 'the failed member disconnected');
    expect(() => lonely.status()).toThrow(expect.objectContaining({ code: 'SHUTDOWN' }));
    expect(() => lonely.raftStats()).toThrow(expect.objectContaining({ code: 'SHUTDOWN' }));
  });
});
