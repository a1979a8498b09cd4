import type { SnapshotMeta } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { Fsm } from '../fsm.js';
import type { RaftStorage, SnapshotRecord } from '../storage/types.js';

/** Finds the stored snapshot described by `meta`, or null. */
export async function findSnapshot(storage: RaftStorage, meta: SnapshotMeta): Promise<SnapshotRecord | null> {
  const records = await storage.list();
  return records.find((r) => r.meta.index === meta.index && r.meta.term === meta.term) ?? null;
}

/** Captures the FSM's state now and returns a function that writes it to storage under `meta`. */
export async function captureSnapshot(
  fsm: Fsm,
  storage: RaftStorage,
  meta: SnapshotMeta,
): Promise<() => Promise<SnapshotRecord>> {
  const state = await fsm.snapshot();
  return async () => {
    try {
      const sink = await storage.create(meta);
      try {
        await state.persist(sink);
        return await sink.close();
      } catch (err) {
        await sink.cancel().catch(() => undefined);
        throw err;
      }
    } finally {
      state.release?.();
    }
  };
}

/** Restores the FSM from the stored snapshot described by `meta`; returns that snapshot's record. */
export async function restoreSnapshot(
  fsm: Fsm,
  storage: RaftStorage,
  meta: SnapshotMeta,
): Promise<SnapshotRecord> {
  const record = await findSnapshot(storage, meta);
  if (record === null) {
    throw new RaftError(
      'CORRUPTION',
      `snapshot ${meta.index}/${meta.term} was installed but is not in the store`,
    );
  }
  await fsm.restore((await storage.open(record.id)).chunks, meta);
  return record;
}
