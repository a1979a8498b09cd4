/**
 * Fuzz targets of the binding's decoders: proposals in committed entries (src/binding/proposal.ts),
 * key-value snapshots with their dedupe table (kv-snapshot.ts, dedupe-table.ts), and inputs
 * (input.ts). Each returns a value that passes the checks its real path applies, or throws the
 * RaftError code that path documents.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEDUPE_MAX_SESSIONS, DedupeTable } from '../../../src/binding/dedupe-table.js';
import { InputSchema, parseInput } from '../../../src/binding/input.js';
import { readKvSnapshot, writeKvSnapshot } from '../../../src/binding/kv-snapshot.js';
import { decodeProposal, encodeProposal } from '../../../src/binding/proposal.js';
import { msgpackDecode, msgpackEncode } from '../../../src/msgpack.js';
import { concat } from '../../support/recording-handler.js';
import { deepNesting, hostileMsgpack, mutated, randomBytes, withWrongField } from '../support/arbitraries.js';
import {
  type AnyTarget,
  decoderTarget,
  type FuzzTarget,
  resultOrRaftError,
  resultOrRaftErrorAsync,
} from '../support/target.js';

const key = fc.string({ minLength: 1, maxLength: 12 });
const input = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.uint8Array({ maxLength: 32 }) }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('setting' as const), key, value: fc.uint8Array({ maxLength: 32 }) }),
);
const proposal = fc.record({
  member: fc.string({ minLength: 1, maxLength: 8 }),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  ack: fc.nat(),
  input,
});

/** A committed entry's data: a proposal that encodes back to an equal proposal, or CORRUPTION. */
export const proposalTarget = decoderTarget(
  'binding: proposal',
  hostileMsgpack(proposal.map((p) => msgpackDecode(encodeProposal(p)))),
  'CORRUPTION',
  decodeProposal,
  (decoded) => assert.deepEqual(decodeProposal(encodeProposal(decoded)), decoded),
);

/**
 * The records of a valid snapshot: header, keys in ascending order, sessions, then settings in
 * ascending order (version 2 when there are any).
 */
const snapshotRecords: fc.Arbitrary<unknown[][]> = fc
  .tuple(
    fc.uniqueArray(key, { maxLength: 8 }),
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 4 }),
    fc.array(fc.uint8Array({ maxLength: 16 }), { minLength: 8, maxLength: 8 }),
    fc.nat({ max: 100 }),
    fc.uniqueArray(key, { maxLength: 3 }),
  )
  .map(([keys, members, values, floor, settings]) => [
    settings.length === 0
      ? ['mqtt-raft/kv', 1, keys.length, members.length]
      : ['mqtt-raft/kv', 2, keys.length, members.length, settings.length],
    ...[...keys].sort().map((k, i) => [k, values[i] as Uint8Array]),
    ...members.map((m, i) => [m, floor + i, [floor + i + 1, floor + i + 3]]),
    ...[...settings].sort().map((k, i) => [k, values[i] as Uint8Array]),
  ]);

function encodeRecords(records: unknown): Uint8Array {
  return Array.isArray(records) ? concat(records.map((r) => msgpackEncode(r))) : msgpackEncode(records);
}

/** A snapshot's bytes, and where they are cut into chunks. */
export interface SnapshotInput {
  readonly bytes: Uint8Array;
  readonly cuts: readonly number[];
}

const snapshotBytes = snapshotRecords.map(encodeRecords);
const header = encodeRecords([['mqtt-raft/kv', 1, 1, 0]]);

async function* chunksOf({ bytes, cuts }: SnapshotInput): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    yield bytes.subarray(at, Math.max(at, cut));
    at = Math.max(at, cut);
  }
  yield bytes.subarray(at);
}

/**
 * A snapshot read from chunks cut anywhere: a state whose keys ascend and whose dedupe table
 * restores within its bounds, and which reads back the same after writing it again; or CORRUPTION.
 */
export const kvSnapshotTarget: FuzzTarget<SnapshotInput> = {
  name: 'binding: key-value snapshot',
  inputs: fc.record({
    bytes: fc.oneof(
      snapshotBytes,
      mutated(snapshotBytes),
      withWrongField(snapshotRecords).map(encodeRecords),
      randomBytes,
      deepNesting.map((nested) => concat([header, nested])),
      hostileMsgpack(fc.constant(['mqtt-raft/kv', 1, 1, 0])),
    ),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
  }),
  size: ({ bytes }) => bytes.length,
  async check(input) {
    const state = await resultOrRaftErrorAsync('CORRUPTION', () => readKvSnapshot(chunksOf(input)));
    if (state === null) return 'rejected';
    const keys = [...state.entries.keys()];
    assert.ok(keys.every((k, i) => k !== '' && (i === 0 || (keys[i - 1] as string) < k)));
    const table = DedupeTable.fromRecords(state.sessions);
    assert.ok(table.stats().sessions <= DEDUPE_MAX_SESSIONS);
    const written: Uint8Array[] = [];
    await writeKvSnapshot(
      { entries: [...state.entries], sessions: state.sessions, settings: [...state.settings] },
      { write: async (c) => void written.push(c) },
    );
    assert.deepEqual(await readKvSnapshot(chunksOf({ bytes: concat(written), cuts: [] })), state);
    return 'accepted';
  },
};

/** A proposed input (any value): one InputSchema accepts, or INVALID_INPUT. */
export const inputTarget: FuzzTarget<unknown> = {
  name: 'binding: input',
  inputs: fc.oneof(input, withWrongField(input), fc.anything()),
  size: (value) => msgpackEncode(value).length,
  check(value) {
    const parsed = resultOrRaftError('INVALID_INPUT', () => parseInput(value));
    if (parsed === null) return 'rejected';
    assert.ok(InputSchema.safeParse(parsed).success);
    return 'accepted';
  },
};

export function bindingTargets(): AnyTarget[] {
  return [proposalTarget, kvSnapshotTarget, inputTarget];
}
