import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/binding/input.js';
import { SNAPSHOT_CHUNK_BYTES } from '../../src/binding/kv-snapshot.js';
import { encodeProposal } from '../../src/binding/proposal.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import type { Entry } from '../../src/core/types.js';
import { isRaftError, RaftError } from '../../src/errors.js';
import { bytes, snapshotChunks } from '../support/fsm-helpers.js';

class Log {
  index = 0;
  entry(member: string, seq: number, input: Input): Entry {
    this.index += 1;
    return { index: this.index, term: 1, type: 'command', data: encodeProposal({ member, seq, input }) };
  }
}

async function* stream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/** Re-cuts a byte stream at arbitrary points, as another store or transport might. */
function recut(chunks: readonly Uint8Array[], size: number): Uint8Array[] {
  const all = Buffer.concat(chunks);
  const out: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.subarray(i, i + size));
  return out;
}

/** Compares two states by keys and bytes; deep equality on megabytes of typed arrays is very slow. */
function expectSameState(actual: Map<string, Uint8Array>, expected: Map<string, Uint8Array>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [key, value] of expected)
    expect(Buffer.compare(actual.get(key) ?? new Uint8Array(), value), key).toBe(0);
}

async function restoreError(fsm: RaftFsm, chunks: AsyncIterable<Uint8Array>): Promise<unknown> {
  try {
    await fsm.restore(chunks);
  } catch (err) {
    return err;
  }
  throw new Error('expected restore to fail');
}

describe('RaftFsm snapshot and restore', () => {
  it('round-trips a big state in 256 KiB chunks, dedupe table included', async () => {
    const source = new RaftFsm();
    const log = new Log();
    const value = new Uint8Array(3000).fill(7);
    for (let i = 0; i < 2000; i++)
      source.apply(log.entry(`m${i % 50}`, Math.floor(i / 50) + 1, { op: 'set', key: `key-${i}`, value }));
    // One value larger than a chunk: records span chunks.
    source.apply(
      log.entry('big', 1, {
        op: 'set',
        key: 'big',
        value: new Uint8Array(SNAPSHOT_CHUNK_BYTES * 2 + 5).fill(1),
      }),
    );
    source.apply(log.entry('gappy', 5, { op: 'delete', key: 'key-0' }));

    const chunks = await snapshotChunks(source);
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.slice(0, -1).every((c) => c.length === SNAPSHOT_CHUNK_BYTES)).toBe(true);

    for (const cut of [chunks, recut(chunks, 7919)]) {
      const target = new RaftFsm();
      await target.restore(stream(cut));
      expectSameState(target.entries(), source.entries());
      expect(target.dedupeStats()).toEqual(source.dedupeStats());
      // The restored table still recognises applied proposals, and applies the missing ones.
      expect(target.apply(log.entry('m3', 1, { op: 'set', key: 'key-3', value: bytes('dup') }))).toEqual({
        outcome: 'duplicate',
      });
      expect(target.apply(log.entry('gappy', 5, { op: 'set', key: 'key-0', value: bytes('dup') }))).toEqual({
        outcome: 'duplicate',
      });
      expect(target.apply(log.entry('gappy', 4, { op: 'set', key: 'late', value: bytes('v') }))).toEqual({
        outcome: 'applied',
      });
      expect(target.get('key-3')).toEqual(value);
    }
  });

  it('snapshots the state at the moment of the call, not of persist', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    fsm.apply(log.entry('m', 1, { op: 'set', key: 'a', value: bytes('1') }));
    const snapshot = fsm.snapshot();
    fsm.apply(log.entry('m', 2, { op: 'set', key: 'a', value: bytes('2') }));
    fsm.apply(log.entry('m', 3, { op: 'set', key: 'b', value: bytes('3') }));
    const chunks: Uint8Array[] = [];
    await snapshot.persist({
      id: 's',
      write: async (c) => void chunks.push(c),
      close: () => Promise.reject(new Error('unused')),
      cancel: async () => undefined,
    });
    const restored = new RaftFsm();
    await restored.restore(stream(chunks));
    expect(restored.entries()).toEqual(new Map([['a', bytes('1')]]));
    // Seq 2 was applied after the capture: the restored table must not know it.
    expect(restored.apply(log.entry('m', 2, { op: 'delete', key: 'a' }))).toEqual({ outcome: 'applied' });
  });

  it('refuses to persist a released snapshot, and an observer queue limit below 1', async () => {
    const fsm = new RaftFsm();
    const snapshot = fsm.snapshot();
    snapshot.release?.();
    const sink = {
      id: 's',
      write: async () => undefined,
      close: () => Promise.reject(new Error('unused')),
      cancel: async () => undefined,
    };
    await expect(snapshot.persist(sink)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'snapshot: already released',
    });
    expect(() => new RaftFsm({ observerQueueLimit: 0 })).toThrowError(
      expect.objectContaining({
        code: 'INVALID_CONFIG',
        message: 'observerQueueLimit: must be a positive integer',
      }),
    );
    expect(() => new RaftFsm({ observerQueueLimit: 1.5 })).toThrowError(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
    expect(new RaftFsm({ observerQueueLimit: 1 })).toBeInstanceOf(RaftFsm);
  });

  it('restores an empty state, replacing what was there; appliedIndex comes from restoredAt', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    fsm.apply(log.entry('m', 1, { op: 'set', key: 'a', value: bytes('1') }));
    await fsm.restore(stream(await snapshotChunks(new RaftFsm())));
    expect(fsm.entries().size).toBe(0);
    expect(fsm.appliedIndex).toBe(1);
    fsm.restoredAt(40);
    expect(fsm.appliedIndex).toBe(40);
    expect(fsm.apply(log.entry('m', 1, { op: 'set', key: 'a', value: bytes('again') }))).toEqual({
      outcome: 'applied',
    });
  });

  it.each([
    ['no data', []],
    ['garbage', [Uint8Array.from([0xc1, 0xc1, 0xc1])]],
    ['another format', [encode(['other', 1, 0, 0])]],
    ['a newer version', [encode(['mqtt-raft/kv', 2, 0, 0])]],
    ['missing records', [encode(['mqtt-raft/kv', 1, 2, 0]), encode(['a', bytes('1')])]],
    [
      'unsorted keys',
      [encode(['mqtt-raft/kv', 1, 2, 0]), encode(['b', bytes('1')]), encode(['a', bytes('1')])],
    ],
    ['a non-bytes value', [encode(['mqtt-raft/kv', 1, 1, 0]), encode(['a', 'text'])]],
    ['a bad session', [encode(['mqtt-raft/kv', 1, 0, 1]), encode(['m', 3, [2]])]],
    ['trailing data', [encode(['mqtt-raft/kv', 1, 0, 0]), encode(['extra'])]],
  ])('rejects %s as CORRUPTION and keeps the state', async (_name, chunks) => {
    const fsm = new RaftFsm();
    fsm.apply(new Log().entry('m', 1, { op: 'set', key: 'kept', value: bytes('v') }));
    const error = await restoreError(fsm, stream(chunks));
    expect(isRaftError(error, 'CORRUPTION')).toBe(true);
    expect([...fsm.entries().keys()]).toEqual(['kept']);
  });

  it('passes errors of the chunk source through unchanged', async () => {
    const chunks = await snapshotChunks(new RaftFsm());
    const failure = new RaftError('UNREACHABLE', 'leader went away');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* chunks;
      throw failure;
    }
    expect(await restoreError(new RaftFsm(), failing())).toBe(failure);
  });
});
