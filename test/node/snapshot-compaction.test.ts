/**
 * A snapshot asked for by the caller (Raft.snapshot): it is taken at the applied index, the log
 * is compacted up to that index less the trailing entries, in slices, and a second snapshot with
 * nothing applied since is refused by name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Raft } from '../../src/index.js';
import { MemoryStore } from '../../src/storage/index.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { KvFsm } from '../support/kv-fsm.js';
import { FAST } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
let raft: Raft | null = null;

afterEach(async () => {
  await raft?.shutdown();
  raft = null;
});

describe('Raft.snapshot', () => {
  it('compacts the log to the applied index less the trailing entries, and refuses a snapshot of nothing new', async () => {
    const storage = new MemoryStore();
    await Raft.bootstrapCluster(storage, { servers: [{ id: 'solo', suffrage: 'voter' }] });
    // No automatic snapshot: the threshold and the interval are out of reach.
    raft = await Raft.start({
      config: {
        ...FAST,
        localId: 'solo',
        snapshotThreshold: 1_000_000,
        snapshotInterval: 3_600_000,
        trailingLogs: 3,
      },
      fsm: new KvFsm(),
      storage,
      transport: new InmemNetwork().transport('solo'),
    });
    const node = raft;
    await waitFor(() => node.state() === 'leader', 2000, 'solo leads');
    // More than two compaction slices (512 entries each) of entries.
    for (let round = 0; round < 12; round++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, i) => node.apply(encoder.encode(`k${round}-${i}=v`))),
      );
    }
    const applied = node.stats().appliedIndex;
    expect(applied).toBeGreaterThan(1200);
    const record = await node.snapshot();
    expect(record.meta.index).toBe(applied);
    expect(await storage.firstIndex()).toBe(applied - 3 + 1);
    expect(await storage.lastIndex()).toBe(applied);
    await expect(node.snapshot()).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: `nothing applied since the snapshot at ${applied}`,
    });
    // Something new: a snapshot again, compacting what was trailing.
    const { index } = await node.apply(encoder.encode('last=1'));
    expect((await node.snapshot()).meta.index).toBe(index);
    expect(await storage.firstIndex()).toBe(index - 3 + 1);
  });
});
