import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, RaftBinding, RaftError } from '../../src/index.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { set } from '../support/binding-group.js';
import { INMEM_TIMING, InmemBindings, memberIds } from '../support/inmem-bindings.js';
import { waitFor } from '../support/wait.js';

let group: InmemBindings | null = null;

afterEach(async () => {
  await group?.closeAll();
  group = null;
});

/** The error `run` fails with, synchronously or not (failing the test when it succeeds). */
async function failure(run: () => unknown): Promise<RaftError> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RaftError);
  return caught as RaftError;
}

/** A binding on the in-memory network that was never opened. */
function unopened(id: string, openStorage = async () => new MemoryStore()): RaftBinding {
  const network = new InmemNetwork({ seed: 1 });
  return new RaftBinding(
    { id, broker: 'mqtt://127.0.0.1:1', bootstrap: true, ...INMEM_TIMING },
    { openStorage, createTransport: () => network.transport(id) },
  );
}

describe('RaftBinding lifecycle', () => {
  it('refuses every call before open, naming the binding as not open', async () => {
    const binding = unopened('a');
    const shutdown = { code: 'SHUTDOWN', message: 'binding a is not open' };
    expect(await failure(() => binding.proposeInput(set('k', 'v')))).toMatchObject(shutdown);
    expect(await failure(() => binding.getState())).toMatchObject(shutdown);
    expect(await failure(() => binding.get('k'))).toMatchObject(shutdown);
    expect(await failure(() => binding.status())).toMatchObject(shutdown);
    expect(await failure(() => binding.observeStateChange()[Symbol.asyncIterator]().next())).toMatchObject(
      shutdown,
    );
    expect(
      await failure(() => binding.observeMembershipChange()[Symbol.asyncIterator]().next()),
    ).toMatchObject(shutdown);
  });

  it('a binding closed before it was opened stays closed: open refuses', async () => {
    const binding = unopened('a');
    await binding.close();
    expect(await failure(() => binding.open())).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'open: the binding is closed',
    });
    expect(await failure(() => binding.proposeInput(set('k', 'v')))).toMatchObject({
      code: 'SHUTDOWN',
      message: 'binding a is closed',
    });
  });

  it('wraps a plain failure of open as UNREACHABLE, keeping the cause, and can be opened again', async () => {
    const cause = new Error('disk full');
    let attempts = 0;
    const binding = unopened('a', async () => {
      attempts += 1;
      if (attempts === 1) throw cause;
      return new MemoryStore();
    });
    const error = await failure(() => binding.open());
    expect(error).toMatchObject({ code: 'UNREACHABLE', message: 'open: disk full' });
    expect(error.cause).toBe(cause);
    await binding.open();
    expect(binding.status().role).toBe('leader');
    expect(await failure(() => binding.open())).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'open: the binding is open',
    });
    await binding.close();
  });

  it('passes a RaftError of open through unchanged', async () => {
    const refusal = new RaftError('CORRUPTION', 'store: bad checksum');
    const binding = unopened('a', async () => {
      throw refusal;
    });
    expect(await failure(() => binding.open())).toBe(refusal);
  });

  it('after close, calls fail as closed, a second close is a no-op, and an unknown consistency is refused by name', async () => {
    group = new InmemBindings(31);
    const [a] = await group.start(['a']);
    const binding = a as RaftBinding;
    expect(await failure(() => binding.get('k', { consistency: 'strong' as 'local' }))).toMatchObject({
      code: 'INVALID_INPUT',
      message: "get: consistency must be 'local' or 'linearizable'",
    });
    expect(await failure(() => binding.getState({ consistency: 'strong' as 'local' }))).toMatchObject({
      message: "getState: consistency must be 'local' or 'linearizable'",
    });
    await binding.close();
    await binding.close();
    expect(await failure(() => binding.getState())).toMatchObject({
      code: 'SHUTDOWN',
      message: 'binding a is closed',
    });
    expect(await failure(() => binding.observeIndexedStateChange())).toMatchObject({
      message: 'binding a is closed',
    });
  });

  it('reports its status once open, and refuses transport counters on a transport of its own', async () => {
    group = new InmemBindings(34);
    const [a] = await group.start(['a', 'b']);
    const binding = a as RaftBinding;
    const { index } = await binding.proposeInput(set('k', 'v'));
    const status = binding.status();
    expect(status).toEqual({
      id: 'a',
      role: 'leader',
      leader: 'a',
      term: status.term,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      members: [
        { id: 'a', suffrage: 'voter' },
        { id: 'b', suffrage: 'voter' },
      ],
    });
    expect(status.term).toBeGreaterThan(0);
    expect(status.commitIndex).toBeGreaterThanOrEqual(index);
    expect(status.appliedIndex).toBeGreaterThanOrEqual(index);
    expect(await failure(() => binding.transportStats())).toMatchObject({
      code: 'UNSUPPORTED',
      message: 'transportStats: the binding runs on a transport of its own',
    });
    expect(binding.raftStats().commitIndex).toBeGreaterThanOrEqual(index);
  });

  it('observers given an already aborted signal end at once', async () => {
    group = new InmemBindings(35);
    const [a] = await group.start(['a']);
    const controller = new AbortController();
    controller.abort();
    const binding = a as RaftBinding;
    const members = binding.observeMembershipChange({ signal: controller.signal })[Symbol.asyncIterator]();
    const state = binding.observeStateChange({ signal: controller.signal })[Symbol.asyncIterator]();
    await binding.proposeInput(set('k', 'v'));
    expect(await members.next()).toEqual({ value: undefined, done: true });
    expect(await state.next()).toEqual({ value: undefined, done: true });
  });

  it('a proposal with an aborted signal is not applied and fails', async () => {
    group = new InmemBindings(32);
    const [a] = await group.start(['a']);
    const binding = a as RaftBinding;
    const controller = new AbortController();
    controller.abort();
    const error = await failure(() => binding.proposeInput(set('k', 'v'), { signal: controller.signal }));
    expect(error.code).not.toBe('INVALID_INPUT');
    expect(await binding.get('k')).toBeUndefined();
  });

  it('closing the leader of three hands over leadership and leaves; closing with leave: false stays a member', async () => {
    group = new InmemBindings(33);
    await group.start(['a', 'b', 'c']);
    const leader = await group.leader();
    const others = ['a', 'b', 'c'].filter((id) => id !== leader.id) as [string, string];
    const watcher = group.member(others[0]);
    await leader.close();
    group.members.delete(leader.id);
    await waitFor(
      () => !memberIds(watcher).includes(leader.id) && watcher.status().leader !== null,
      5000,
      `${leader.id} to leave and a new leader to be known`,
    );
    expect(memberIds(watcher)).toEqual(others);
    const stopping = group.member(others[1]);
    await stopping.close({ leave: false });
    group.members.delete(others[1]);
    expect(memberIds(watcher)).toEqual(others);
  });
});
