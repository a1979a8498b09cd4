import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readKvSnapshot, writeKvSnapshot } from '../../src/binding/kv-snapshot.js';
import { isRaftError } from '../../src/errors.js';
import { rejectionOf } from '../support/promises.js';
import { concat } from '../support/recording-handler.js';
import { assertTarget } from './support/target.js';
import { bindingTargets } from './targets/binding.js';
import { largestArrayReservedAsync } from './targets/msgpack.js';

/** `key:sha256(value)` per entry. */
function digests(entries: readonly (readonly [string, Uint8Array])[]): string[] {
  return entries.map(([k, v]) => `${k}:${createHash('sha256').update(v).digest('hex')}`);
}

describe('fuzz: the binding decoders', () => {
  it('reads a snapshot of nested array headers declaring 16,000 elements each without reserving them', async () => {
    // A valid header (one key), then 3,000 nested arrays declaring 16,000 elements each, in 256-byte chunks.
    const head = [0x94, 0xac, ...new TextEncoder().encode('mqtt-raft/kv'), 0x01, 0x01, 0x00];
    const bytes = Uint8Array.from([
      ...head,
      ...Array.from({ length: 3000 }, () => [0xdc, 0x3e, 0x80]).flat(),
    ]);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < bytes.length; at += 256) yield bytes.subarray(at, at + 256);
    }
    let error: unknown;
    const reserved = await largestArrayReservedAsync(async () => {
      error = await rejectionOf(readKvSnapshot(chunks()));
    });
    expect(reserved).toBeLessThanOrEqual(bytes.length);
    expect(isRaftError(error, 'CORRUPTION')).toBe(true);
  });

  it('reads records that span many chunks, and records many to a chunk, the same at every chunk size', async () => {
    const entries: [string, Uint8Array][] = [
      ['a', new Uint8Array(100_000).fill(1)],
      ...Array.from({ length: 50 }, (_, i): [string, Uint8Array] => [`k${100 + i}`, Uint8Array.of(i)]),
      ['z', new Uint8Array(70_000).fill(2)],
    ];
    const sessions = [{ member: 'm', floor: 3, seqs: [5, 9] }];
    const written: Uint8Array[] = [];
    await writeKvSnapshot({ entries, sessions }, { write: async (c) => void written.push(c) });
    const bytes = concat(written);
    for (const size of [1_000, 4_096, 65_537, bytes.length]) {
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
      }
      const state = await readKvSnapshot(chunks());
      // Compared by digest: a deep equality walks 170 KB element by element, for seconds.
      expect(digests([...state.entries]), `chunks of ${size}`).toEqual(digests(entries));
      expect(state.sessions).toEqual(sessions);
    }
  });

  for (const target of bindingTargets()) {
    it(`${target.name}: a value its real path accepts, or its documented error`, async () => {
      const counts = await assertTarget(target);
      expect(counts.accepted).toBeGreaterThan(0);
      expect(counts.rejected).toBeGreaterThan(0);
    });
  }
});
