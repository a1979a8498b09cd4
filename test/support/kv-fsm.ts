import type { Entry, Fsm, FsmSnapshot, SnapshotSink } from '../../src/index.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * A small FSM for node tests: commands are "key=value" strings. It records every index it
 * applied, so tests can prove each entry was applied exactly once and in order.
 */
export class KvFsm implements Fsm {
  state = new Map<string, string>();
  /** Indexes applied since the last restore, in order. */
  appliedIndexes: number[] = [];
  restores = 0;

  apply(entry: Entry): string {
    const [key = '', value = ''] = decoder.decode(entry.data).split('=');
    if (this.appliedIndexes.length > 0 && entry.index <= (this.appliedIndexes.at(-1) as number)) {
      throw new Error(`entry ${entry.index} applied twice or out of order`);
    }
    this.appliedIndexes.push(entry.index);
    const previous = this.state.get(key) ?? '';
    this.state.set(key, value);
    return previous;
  }

  snapshot(): FsmSnapshot {
    const copy = JSON.stringify([...this.state]);
    return {
      async persist(sink: SnapshotSink) {
        const bytes = encoder.encode(copy);
        // Several chunks (up to 64, at least 64 bytes each), so chunked transfer is exercised.
        const size = Math.max(64, Math.ceil(bytes.length / 64));
        for (let i = 0; i < bytes.length; i += size) await sink.write(bytes.subarray(i, i + size));
      },
    };
  }

  async restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Uint8Array[] = [];
    for await (const chunk of chunks) parts.push(chunk);
    const text = decoder.decode(Buffer.concat(parts));
    this.state = new Map(text === '' ? [] : (JSON.parse(text) as Array<[string, string]>));
    this.appliedIndexes = [];
    this.restores++;
  }
}
