import type { Input, RaftFsm, SnapshotSink } from '../../src/index.js';

/** UTF-8 bytes of `text`. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A `set` input with a text value. */
export const setInput = (key: string, value: string): Input => ({ op: 'set', key, value: bytes(value) });

/** A `delete` input. */
export const deleteInput = (key: string): Input => ({ op: 'delete', key });

/** Persists a snapshot of `fsm` into memory, returning the chunks as the sink received them. */
export async function snapshotChunks(fsm: RaftFsm): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  const sink: SnapshotSink = {
    id: 'test',
    write: async (chunk) => void chunks.push(chunk),
    close: () => Promise.reject(new Error('unused')),
    cancel: async () => undefined,
  };
  const snapshot = fsm.snapshot();
  await snapshot.persist(sink);
  snapshot.release?.();
  return chunks;
}
