/**
 * The node's snapshot helpers over a store: finding a snapshot by index and term, capturing the
 * FSM and writing it (releasing the captured state whatever happens, and leaving nothing behind
 * when the write fails), and restoring from a snapshot the store must hold.
 */
import { describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/core/types.js';
import type { Fsm, FsmSnapshot } from '../../src/index.js';
import { MemoryStore } from '../../src/index.js';
import { captureSnapshot, findSnapshot, restoreSnapshot } from '../../src/node/snapshots.js';
import { KvFsm } from '../support/kv-fsm.js';

const encoder = new TextEncoder();
const meta = (index: number, term: number): SnapshotMeta => ({
  index,
  term,
  config: { servers: [{ id: 'a', suffrage: 'voter' }] },
  configIndex: 1,
});

async function store(...metas: SnapshotMeta[]): Promise<MemoryStore> {
  const s = new MemoryStore({ retainSnapshots: 5 });
  for (const m of metas) {
    const sink = await s.create(m);
    await sink.write(encoder.encode(JSON.stringify([['at', `${m.index}/${m.term}`]])));
    await sink.close();
  }
  return s;
}

describe('snapshot helpers', () => {
  it('find the snapshot of that index and term, and none of another term', async () => {
    const s = await store(meta(5, 1), meta(9, 2));
    expect((await findSnapshot(s, meta(5, 1)))?.meta).toMatchObject({ index: 5, term: 1 });
    expect((await findSnapshot(s, meta(9, 2)))?.meta).toMatchObject({ index: 9, term: 2 });
    expect(await findSnapshot(s, meta(9, 3))).toBeNull();
    expect(await findSnapshot(s, meta(7, 2))).toBeNull();
  });

  it('restore from the named snapshot, and call a missing one corruption', async () => {
    const s = await store(meta(5, 1), meta(9, 2));
    const fsm = new KvFsm();
    await restoreSnapshot(fsm, s, meta(5, 1));
    expect(fsm.state.get('at')).toBe('5/1');
    await expect(restoreSnapshot(fsm, s, meta(6, 1))).rejects.toMatchObject({
      code: 'CORRUPTION',
      message: 'snapshot 6/1 was installed but is not in the store',
    });
  });

  it('release the captured state after a write, and after a failed one leave no snapshot', async () => {
    const released: string[] = [];
    const fsmWith = (persist: FsmSnapshot['persist'], name: string): Fsm => ({
      apply: () => undefined,
      restore: async () => undefined,
      snapshot: () => ({ persist, release: () => released.push(name) }),
    });
    const s = await store();
    const write = await captureSnapshot(
      fsmWith(async (sink) => sink.write(encoder.encode('ok')), 'good'),
      s,
      meta(3, 1),
    );
    expect((await write()).meta).toMatchObject({ index: 3 });
    const failing = await captureSnapshot(
      fsmWith(async () => {
        throw new Error('the state could not be written');
      }, 'bad'),
      s,
      meta(4, 1),
    );
    const cancelled: number[] = [];
    const create = s.create.bind(s);
    s.create = async (m) => {
      const sink = await create(m);
      const cancel = sink.cancel.bind(sink);
      sink.cancel = () => {
        cancelled.push(m.index);
        return cancel();
      };
      return sink;
    };
    await expect(failing()).rejects.toThrow('the state could not be written');
    expect(released).toEqual(['good', 'bad']);
    // The half-written snapshot is cancelled, so the store can drop what it holds of it.
    expect(cancelled).toEqual([4]);
    expect((await s.list()).map((r) => r.meta.index)).toEqual([3]);
  });
});
