/**
 * What a node reads from and writes to its storage before it runs (src/node/state.ts): bootstrap,
 * the existing-state check, loading with its corruption check, and quorum-loss recovery.
 */
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/types.js';
import { MemoryStore, Raft, type RaftError } from '../../src/index.js';
import { loadState } from '../../src/node/state.js';
import { KvFsm } from '../support/kv-fsm.js';

const encoder = new TextEncoder();
const voters = (...ids: string[]) => ({ servers: ids.map((id) => ({ id, suffrage: 'voter' as const })) });
const command = (index: number, term: number, text: string): Entry => ({
  index,
  term,
  type: 'command',
  data: encoder.encode(text),
});

async function refusal(promise: Promise<unknown>): Promise<Pick<RaftError, 'code' | 'message'>> {
  const err = (await promise.then(
    () => null,
    (e: unknown) => e,
  )) as RaftError | null;
  expect(err).not.toBeNull();
  return { code: (err as RaftError).code, message: (err as RaftError).message };
}

async function writeSnapshot(store: MemoryStore, index: number, term: number): Promise<void> {
  const sink = await store.create({ index, term, config: voters('a'), configIndex: 1 });
  await sink.write(encoder.encode('[]'));
  await sink.close();
}

describe('bootstrap', () => {
  it('writes the configuration as entry 1 of term 1, and refuses what would not make a group', async () => {
    const store = new MemoryStore();
    expect(
      await refusal(Raft.bootstrapCluster(store, { servers: [{ id: 'a', suffrage: 'nonvoter' }] })),
    ).toEqual({
      code: 'INVALID_INPUT',
      message: 'bootstrap configuration needs at least one voter',
    });
    expect(await refusal(Raft.bootstrapCluster(store, voters('a', 'b', 'a')))).toEqual({
      code: 'INVALID_INPUT',
      message: 'bootstrap configuration lists a server twice',
    });
    expect(await Raft.hasExistingState(store)).toBe(false);
    await Raft.bootstrapCluster(store, voters('a', 'b'));
    expect(await store.readHardState()).toEqual({ term: 1, vote: null, commit: 0 });
    expect(await store.getLogs(1, 1)).toMatchObject([{ index: 1, term: 1, type: 'config' }]);
    expect(await refusal(Raft.bootstrapCluster(store, voters('a')))).toEqual({
      code: 'INVALID_INPUT',
      message: 'cannot bootstrap: the storage already holds Raft state',
    });
  });
});

describe('the existing-state check', () => {
  it('finds a term alone, a log alone, or a snapshot alone', async () => {
    const term = new MemoryStore();
    await term.writeBatch({ resetLog: false, entries: [], hardState: { term: 3, vote: null, commit: 0 } });
    const log = new MemoryStore();
    await log.storeLogs([command(1, 0, 'k=v')]);
    const snapshot = new MemoryStore();
    await writeSnapshot(snapshot, 5, 2);
    expect(await Raft.hasExistingState(new MemoryStore())).toBe(false);
    expect(await Raft.hasExistingState(term)).toBe(true);
    expect(await Raft.hasExistingState(log)).toBe(true);
    expect(await Raft.hasExistingState(snapshot)).toBe(true);
  });
});

describe('loading', () => {
  it('refuses a log that starts after a gap from the snapshot, as CORRUPTION', async () => {
    const store = new MemoryStore();
    await writeSnapshot(store, 5, 2);
    await store.storeLogs([command(7, 2, 'a=1'), command(8, 2, 'b=2')]);
    expect(await refusal(loadState(store))).toEqual({
      code: 'CORRUPTION',
      message: 'the log starts at 7 but the latest snapshot ends at 5: entries are missing',
    });
  });

  it('takes the log right after the snapshot, the newest term seen, and no commit beyond what it holds', async () => {
    const store = new MemoryStore();
    await writeSnapshot(store, 5, 2);
    await store.storeLogs([command(6, 3, 'a=1'), command(7, 4, 'b=2')]);
    await store.writeBatch({ resetLog: false, entries: [], hardState: { term: 3, vote: 'b', commit: 9 } });
    const { initial, snapshot } = await loadState(store);
    expect(snapshot?.meta).toMatchObject({ index: 5, term: 2 });
    expect(initial.entries.map((e) => e.index)).toEqual([6, 7]);
    expect(initial.hardState).toEqual({ term: 4, vote: 'b', commit: 7 });
  });

  it('keeps the snapshot’s index as what is known committed when the log is empty', async () => {
    const store = new MemoryStore();
    await writeSnapshot(store, 5, 6);
    await store.writeBatch({ resetLog: false, entries: [], hardState: { term: 2, vote: null, commit: 8 } });
    const { initial } = await loadState(store);
    expect(initial.entries).toEqual([]);
    expect(initial.hardState).toEqual({ term: 6, vote: null, commit: 5 });
  });
});

describe('recovery after a lost quorum', () => {
  it('replays the commands it holds into a snapshot under the new configuration and empties the log', async () => {
    const store = new MemoryStore();
    await Raft.bootstrapCluster(store, voters('a', 'b', 'c'));
    await store.storeLogs([
      { index: 2, term: 2, type: 'noop', data: new Uint8Array() },
      command(3, 2, 'x=1'),
      command(4, 3, 'y=2'),
    ]);
    await store.writeBatch({ resetLog: false, entries: [], hardState: { term: 5, vote: 'c', commit: 3 } });
    const fsm = new KvFsm();
    expect(
      await refusal(Raft.recoverCluster(store, fsm, { servers: [{ id: 'a', suffrage: 'nonvoter' }] })),
    ).toEqual({
      code: 'INVALID_INPUT',
      message: 'recovery configuration needs at least one voter',
    });
    await Raft.recoverCluster(store, fsm, voters('a'));
    // Only commands reach the FSM; the configuration and the no-op do not.
    expect(fsm.appliedIndexes).toEqual([3, 4]);
    const [record] = await store.list();
    expect(record?.meta).toEqual({ index: 4, term: 3, config: voters('a'), configIndex: 4 });
    expect(await store.lastIndex()).toBe(0);
    expect(await store.readHardState()).toEqual({ term: 5, vote: null, commit: 4 });
    const restored = new KvFsm();
    await restored.restore((await store.open(record?.id as string)).chunks);
    expect([...restored.state]).toEqual([
      ['x', '1'],
      ['y', '2'],
    ]);
  });
});
