import { describe, expect, it } from 'vitest';
import { readKvSnapshot } from '../../src/binding/kv-snapshot.js';
import { isRaftError } from '../../src/errors.js';
import { rejectionOf } from '../support/promises.js';
import { assertTarget } from './support/target.js';
import { bindingTargets } from './targets/binding.js';
import { largestArrayReservedAsync } from './targets/msgpack.js';

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

  for (const target of bindingTargets()) {
    it(`${target.name}: a value its real path accepts, or its documented error`, async () => {
      const counts = await assertTarget(target);
      expect(counts.accepted).toBeGreaterThan(0);
      expect(counts.rejected).toBeGreaterThan(0);
    });
  }
});
