import type { SnapshotMeta } from '../core/types.js';
import { copyBytes } from './bytes.js';
import { SinkState } from './sink-state.js';
import { formatSnapshotId, newestFirst } from './snapshot-id.js';
import type { SnapshotRecord, SnapshotSink, SnapshotStore } from './types.js';
import { assertBytes, checkSnapshotMeta, invalidInput } from './validate.js';

interface StoredSnapshot {
  readonly record: SnapshotRecord;
  readonly chunks: readonly Uint8Array[];
}

function copyRecord(record: SnapshotRecord): SnapshotRecord {
  return { id: record.id, size: record.size, meta: structuredClone(record.meta) };
}

/**
 * The snapshot half of {@link MemoryStore}: complete snapshots in a map, each sink buffering its
 * chunks privately until `close()` publishes them. `assertOpen` throws once the owning store closed.
 */
export class MemorySnapshots implements SnapshotStore {
  readonly #snapshots = new Map<string, StoredSnapshot>();
  readonly #retain: number;
  readonly #assertOpen: () => void;
  #seq = 0;

  constructor(retain: number, assertOpen: () => void) {
    this.#retain = retain;
    this.#assertOpen = assertOpen;
  }

  async create(meta: SnapshotMeta): Promise<SnapshotSink> {
    this.#assertOpen();
    const checked = checkSnapshotMeta(meta);
    const id = formatSnapshotId(checked, ++this.#seq);
    const state = new SinkState(id);
    let chunks: Uint8Array[] = [];
    let size = 0;
    return {
      id,
      write: async (chunk) => {
        this.#assertOpen();
        state.assertWritable();
        assertBytes(chunk, 'chunk');
        // Empty chunks are dropped, as RaftStore does: a reader sees the same chunks from both stores.
        if (chunk.length > 0) chunks.push(copyBytes(chunk));
        size += chunk.length;
      },
      close: async () => {
        this.#assertOpen();
        state.beginClose();
        const record: SnapshotRecord = { id, meta: checked, size };
        this.#snapshots.set(id, { record, chunks });
        this.#applyRetention();
        state.endClose(true);
        return copyRecord(record);
      },
      cancel: async () => {
        this.#assertOpen();
        if (state.cancel()) chunks = [];
      },
    };
  }

  async list(): Promise<SnapshotRecord[]> {
    this.#assertOpen();
    return this.#sorted().map(copyRecord);
  }

  async open(id: string): Promise<{ record: SnapshotRecord; chunks: AsyncIterable<Uint8Array> }> {
    this.#assertOpen();
    const stored = typeof id === 'string' ? this.#snapshots.get(id) : undefined;
    if (stored === undefined) throw invalidInput(`no snapshot with id ${String(id)}`);
    const assertOpen = this.#assertOpen;
    // A reader keeps the chunks it opened even if retention deletes the snapshot meanwhile.
    const data = stored.chunks;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (const chunk of data) {
        assertOpen();
        yield copyBytes(chunk);
      }
    }
    return { record: copyRecord(stored.record), chunks: { [Symbol.asyncIterator]: chunks } };
  }

  /** Drops everything (used by `close(true)`). */
  clear(): void {
    this.#snapshots.clear();
  }

  #sorted(): SnapshotRecord[] {
    return [...this.#snapshots.values()].map((s) => s.record).sort(newestFirst);
  }

  #applyRetention(): void {
    for (const old of this.#sorted().slice(this.#retain)) this.#snapshots.delete(old.id);
  }
}
