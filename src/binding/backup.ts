/**
 * Backups of the key-value state: a file holding the state at one log index (what
 * `mqtt-raft snapshot save` writes), and its restore into a fresh store, from which one member
 * starts a new group holding that state.
 */
import type { SnapshotMeta } from '../core/types.js';
import { RaftError } from '../errors.js';
import { hasExistingState } from '../node/state.js';
import { crc32c } from '../storage/crc32c.js';
import type { RaftStorage } from '../storage/types.js';
import { nameProblem } from '../transport/mqtt-topics.js';
import { createGroup } from './group-identity.js';
import { parseInput } from './input.js';
import { type KvState, readKvSnapshot, writeKvSnapshot } from './kv-snapshot.js';

/** The state at one log index, keys in ascending order. */
export interface StateBackup {
  readonly index: number;
  readonly entries: ReadonlyArray<readonly [string, Uint8Array]>;
  /** The group's own settings at that index (its voter budget); none when absent. */
  readonly settings?: ReadonlyArray<readonly [string, Uint8Array]>;
}

const MAGIC = new TextEncoder().encode('MQRAFTBK');
const VERSION = 1;
/** Magic, version byte, index (u64 big-endian). */
const HEADER_BYTES = MAGIC.length + 1 + 8;
const CRC_BYTES = 4;

/**
 * The backup file: a header (magic `MQRAFTBK`, version 1, the index as a big-endian u64), the
 * state and the group's settings as a key-value snapshot (kv-snapshot.ts, with no dedupe sessions:
 * a new group starts with new sessions), and a CRC-32C of everything before it, big-endian.
 */
export async function encodeBackup(backup: StateBackup): Promise<Uint8Array> {
  const parts: Uint8Array[] = [header(backup.index)];
  await writeKvSnapshot(kvState(backup), { write: async (chunk) => void parts.push(chunk) });
  const body = Buffer.concat(parts);
  const crc = Buffer.alloc(CRC_BYTES);
  crc.writeUInt32BE(crc32c(body));
  return new Uint8Array(Buffer.concat([body, crc]));
}

/**
 * Reads a backup file, checking its checksum and every key and value against the library's limits.
 *
 * @throws RaftError `CORRUPTION` when the bytes are not an intact backup.
 */
export async function decodeBackup(bytes: Uint8Array): Promise<StateBackup> {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < HEADER_BYTES + CRC_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new RaftError('CORRUPTION', 'backup: not an mqtt-raft backup file');
  }
  const version = data[MAGIC.length];
  if (version !== VERSION) throw new RaftError('CORRUPTION', `backup: unsupported version ${version}`);
  const body = data.subarray(0, data.length - CRC_BYTES);
  if (crc32c(body) !== data.readUInt32BE(body.length)) {
    throw new RaftError('CORRUPTION', 'backup: checksum mismatch (the file is damaged or truncated)');
  }
  const index = Number(data.readBigUInt64BE(MAGIC.length + 1));
  if (!Number.isSafeInteger(index)) throw new RaftError('CORRUPTION', 'backup: bad index');
  const { entries, settings } = await readKvSnapshot(single(body.subarray(HEADER_BYTES)));
  for (const [key, value] of entries) {
    try {
      parseInput({ op: 'set', key, value });
    } catch (err) {
      throw new RaftError('CORRUPTION', `backup: ${(err as Error).message}`, { cause: err });
    }
  }
  return { index, entries: [...entries], settings: [...settings] };
}

/**
 * Writes `backup` into a fresh store as the snapshot of a new group whose only voter is `id`, with
 * a new group id: a member opened on it as `id` restarts as that group's leader with the state, at
 * the backup's index, and others join it as usual. The old group is left alone: run the new one
 * under another cluster name, or once the old one is gone.
 *
 * @throws RaftError `INVALID_INPUT` when the store already holds Raft state.
 */
export async function restoreBackup(storage: RaftStorage, backup: StateBackup, id: string): Promise<void> {
  if (await hasExistingState(storage)) {
    throw new RaftError(
      'INVALID_INPUT',
      'restore: the store already holds Raft state; restore into a fresh one',
    );
  }
  const problem = nameProblem(id);
  if (problem !== null) throw new RaftError('INVALID_INPUT', `restore: id: ${problem}`);
  const config = { servers: [{ id, suffrage: 'voter' as const }] };
  // Term 1, as a bootstrap starts; the index stays the backup's, so indexes keep growing.
  const index = Math.max(1, backup.index);
  const meta: SnapshotMeta = { index, term: 1, config, configIndex: index };
  await createGroup(storage);
  const sink = await storage.create(meta);
  try {
    await writeKvSnapshot(kvState(backup), sink);
    await sink.close();
  } catch (err) {
    await sink.cancel();
    throw err;
  }
  await storage.writeBatch({
    // Stryker disable next-line BooleanLiteral: the store was just found empty, so there is no log to reset; kept so the snapshot is the log's base whatever the store held
    resetLog: true,
    entries: [],
    hardState: { term: 1, vote: null, commit: index },
  });
}

/** The backup as a snapshot's state: keys in order (the snapshot format requires it), no dedupe sessions. */
function kvState(backup: StateBackup): KvState {
  return { entries: byKey(backup.entries), sessions: [], settings: byKey(backup.settings ?? []) };
}

function byKey(pairs: ReadonlyArray<readonly [string, Uint8Array]>): Array<readonly [string, Uint8Array]> {
  return [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function header(index: number): Uint8Array {
  const bytes = Buffer.alloc(HEADER_BYTES);
  bytes.set(MAGIC, 0);
  bytes[MAGIC.length] = VERSION;
  bytes.writeBigUInt64BE(BigInt(index), MAGIC.length + 1);
  return bytes;
}

async function* single(chunk: Uint8Array): AsyncGenerator<Uint8Array> {
  yield chunk;
}
