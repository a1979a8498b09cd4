import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError, Raft } from '../../src/index.js';
import { MemoryStore } from '../../src/storage/index.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { KvFsm } from '../support/kv-fsm.js';
import { FAST } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
const running: Raft[] = [];

async function startSingle(
  storage = new MemoryStore(),
  fsm = new KvFsm(),
  bootstrap = true,
  snapshotThreshold = 5,
) {
  if (bootstrap) await Raft.bootstrapCluster(storage, { servers: [{ id: 'solo', suffrage: 'voter' }] });
  const raft = await Raft.start({
    config: { ...FAST, localId: 'solo', snapshotThreshold, trailingLogs: 2 },
    fsm,
    storage,
    transport: new InmemNetwork().transport('solo'),
  });
  running.push(raft);
  await waitFor(() => raft.state() === 'leader', 2000, 'solo leads');
  return { raft, storage, fsm };
}

afterEach(async () => {
  for (const r of running.splice(0)) await r.shutdown();
});

describe('a single-server group', () => {
  it('leads at once, without waiting out an election timeout', async () => {
    const storage = new MemoryStore();
    await Raft.bootstrapCluster(storage, { servers: [{ id: 'solo', suffrage: 'voter' }] });
    // A minute of election timeout: only a campaign at start can make it lead within the wait.
    const slow = { heartbeatTimeout: 60_000, electionTimeout: 60_000, leaderLeaseTimeout: 60_000 };
    const raft = await Raft.start({
      config: { ...slow, localId: 'solo' },
      fsm: new KvFsm(),
      storage,
      transport: new InmemNetwork().transport('solo'),
    });
    running.push(raft);
    await waitFor(() => raft.state() === 'leader', 2000, 'solo leads');
    expect((await raft.apply(encoder.encode('x=1'))).index).toBeGreaterThan(0);
  });

  it('applies proposals in order and returns the FSM response', async () => {
    const { raft, fsm } = await startSingle();
    const first = await raft.apply(encoder.encode('x=1'));
    const second = await raft.apply(encoder.encode('x=2'));
    expect(second.index).toBe(first.index + 1);
    expect(first.response).toBe('');
    expect(second.response).toBe('1');
    expect(fsm.state.get('x')).toBe('2');
  });

  it('resolves a barrier after every earlier entry is applied', async () => {
    const { raft, fsm } = await startSingle();
    const writes = [1, 2, 3].map((n) => raft.apply(encoder.encode(`k${n}=${n}`)));
    const { index } = await raft.barrier();
    expect(fsm.appliedIndexes.at(-1)).toBeLessThan(index);
    expect(fsm.state.size).toBe(3);
    await Promise.all(writes);
  });

  it('serves linearizable reads and verifies leadership', async () => {
    const { raft } = await startSingle();
    const { index } = await raft.apply(encoder.encode('a=b'));
    expect(await raft.readIndex()).toBeGreaterThanOrEqual(index);
    await expect(raft.verifyLeader()).resolves.toBeUndefined();
  });

  it('refuses to bootstrap storage that already holds state', async () => {
    const storage = new MemoryStore();
    await Raft.bootstrapCluster(storage, { servers: [{ id: 'solo', suffrage: 'voter' }] });
    expect(await Raft.hasExistingState(storage)).toBe(true);
    await expect(
      Raft.bootstrapCluster(storage, { servers: [{ id: 'solo', suffrage: 'voter' }] }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('compacts a long log in slices and keeps it one contiguous range', async () => {
    const { raft, storage } = await startSingle(new MemoryStore(), new KvFsm(), true, 100_000);
    // Trailing 2, no threshold snapshots: the second snapshot compacts about 1,500 entries at once.
    const before = await raft.snapshot();
    for (let i = 0; i < 15; i++) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => raft.apply(encoder.encode(`k${j}=${i}`))));
    }
    const snapshot = await raft.snapshot();
    expect(snapshot.meta.index - before.meta.index).toBe(1500);
    const first = await storage.firstIndex();
    const last = await storage.lastIndex();
    expect(first).toBe(snapshot.meta.index - 2 + 1);
    expect((await storage.getLogs(first, last)).map((e) => e.index)).toEqual(
      Array.from({ length: last - first + 1 }, (_, i) => first + i),
    );
  });

  it('snapshots by threshold, compacts the log, and restarts from the snapshot plus the log', async () => {
    const { raft, storage } = await startSingle();
    for (let i = 0; i < 12; i++) await raft.apply(encoder.encode(`k${i}=${i}`));
    await waitFor(
      async () => (await storage.list()).length > 0 && (await storage.firstIndex()) > 1,
      2000,
      'a snapshot and compaction',
    );
    const manual = await raft.snapshot();
    expect(manual.meta.index).toBeGreaterThan(0);
    await raft.apply(encoder.encode('after=snapshot'));
    await raft.shutdown();
    const fsm = new KvFsm();
    const restarted = await startSingle(storage, fsm, false);
    expect(fsm.restores).toBe(1);
    await waitFor(
      () => fsm.state.get('after') === 'snapshot',
      2000,
      'the entry after the snapshot is re-applied',
    );
    expect(fsm.state.size).toBe(13);
    await restarted.raft.apply(encoder.encode('more=1'));
  });

  it('spreads the snapshot threshold by up to a quarter, drawn from its random source', async () => {
    const firstSnapshotAt = async (draw: (bound: number) => number): Promise<number> => {
      const storage = new MemoryStore();
      await Raft.bootstrapCluster(storage, { servers: [{ id: 'solo', suffrage: 'voter' }] });
      const raft = await Raft.start({
        config: { ...FAST, localId: 'solo', snapshotThreshold: 8, trailingLogs: 2 },
        fsm: new KvFsm(),
        storage,
        transport: new InmemNetwork().transport('solo'),
        random: { int: draw },
      });
      running.push(raft);
      const taken: number[] = [];
      raft.on('snapshotTaken', ({ index }) => taken.push(index));
      await waitFor(() => raft.state() === 'leader', 2000, 'solo leads');
      // One entry per Ready: the snapshot starts at the first index where it is due.
      for (let i = 0; i < 14 && taken.length === 0; i++) await raft.apply(encoder.encode(`k${i}=${i}`));
      await waitFor(() => taken.length > 0, 2000, 'a snapshot');
      return taken[0] as number;
    };
    // A threshold of 8 plus a spread from 0 to 8/4 = 2 entries.
    expect(await firstSnapshotAt(() => 0)).toBe(8);
    expect(await firstSnapshotAt((bound) => bound - 1)).toBe(10);
  });

  it('fails calls after shutdown with SHUTDOWN', async () => {
    const { raft } = await startSingle();
    await raft.shutdown();
    const err = await raft.apply(encoder.encode('x=1')).catch((e: unknown) => e);
    expect(isRaftError(err, 'SHUTDOWN')).toBe(true);
  });

  it('rejects data that is not bytes with INVALID_INPUT', async () => {
    const { raft } = await startSingle();
    await expect(raft.apply('text' as unknown as Uint8Array)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });
});
