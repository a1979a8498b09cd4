import { Encoder } from '@msgpack/msgpack';
import { RaftError } from '../errors.js';
import { msgpackRecords } from '../msgpack-records.js';
import { copyBytes } from '../storage/bytes.js';
import { type ChunkTarget, ChunkWriter } from './chunk-writer.js';
import type { SessionRecord } from './dedupe-table.js';

/** Snapshot chunk size: 256 KiB, the default broker packet budget of InstallSnapshot. */
export const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

const FORMAT = 'mqtt-raft/kv';
/** Version 1 has no settings; version 2 adds them. A state without settings is written as version 1. */
const VERSION = 1;
const VERSION_WITH_SETTINGS = 2;

/** The replicated state of a {@link RaftFsm}, as a snapshot carries it. */
export interface KvState {
  /** Key-value pairs sorted by key. */
  readonly entries: ReadonlyArray<readonly [string, Uint8Array]>;
  /** The dedupe table, least recently used session first. */
  readonly sessions: readonly SessionRecord[];
  /** The group's settings (`SettingInput`), sorted by key; none when absent. */
  readonly settings?: ReadonlyArray<readonly [string, Uint8Array]>;
}

/** What {@link readKvSnapshot} gives back. */
export interface ReadKvState {
  readonly entries: Map<string, Uint8Array>;
  readonly sessions: SessionRecord[];
  readonly settings: Map<string, Uint8Array>;
}

/**
 * Writes `state` as a stream of msgpack records cut into fixed-size chunks:
 * `[format, version, keyCount, sessionCount, settingCount?]`, then `[key, value]` per key in key
 * order, then `[member, floor, seqs]` per session, then `[key, value]` per setting in key order
 * (version 2 only: a state without settings keeps version 1, which older members read). Records are written one at a time, so memory stays at one
 * chunk whatever the state's size; the same state always gives the same bytes.
 */
export async function writeKvSnapshot(
  state: KvState,
  target: ChunkTarget,
  chunkBytes = SNAPSHOT_CHUNK_BYTES,
): Promise<void> {
  const out = new ChunkWriter(target, chunkBytes);
  const encoder = new Encoder();
  // encodeSharedRef returns the encoder's own buffer; the chunk writer copies it before the next record.
  const settings = state.settings ?? [];
  const header =
    settings.length === 0
      ? [FORMAT, VERSION, state.entries.length, state.sessions.length]
      : [FORMAT, VERSION_WITH_SETTINGS, state.entries.length, state.sessions.length, settings.length];
  await out.write(encoder.encodeSharedRef(header));
  for (const [key, value] of state.entries) await out.write(encoder.encodeSharedRef([key, value]));
  for (const s of state.sessions) await out.write(encoder.encodeSharedRef([s.member, s.floor, s.seqs]));
  for (const [key, value] of settings) await out.write(encoder.encodeSharedRef([key, value]));
  await out.flush();
}

/**
 * Reads a snapshot written by {@link writeKvSnapshot}. Records may span chunks.
 *
 * @throws RaftError `CORRUPTION` when the data is not such a snapshot; errors of `chunks` itself
 * (storage or transport) pass through unchanged.
 */
export async function readKvSnapshot(chunks: AsyncIterable<Uint8Array>): Promise<ReadKvState> {
  const source = { failed: false };
  async function* tap(): AsyncGenerator<Uint8Array> {
    try {
      yield* chunks;
    } catch (err) {
      source.failed = true;
      throw err;
    }
  }
  const records = msgpackRecords(tap());
  try {
    return await parseRecords(records);
  } catch (err) {
    if (source.failed || (err instanceof RaftError && err.code === 'CORRUPTION')) throw err;
    throw new RaftError('CORRUPTION', `snapshot: not a key-value snapshot (${(err as Error).message})`, {
      cause: err,
    });
  } finally {
    // Stops reading early on an error, which also releases the source (a store iterator, a stream).
    await records.return(undefined).catch(() => undefined);
  }
}

async function parseRecords(records: AsyncGenerator<unknown>): Promise<ReadKvState> {
  const header = (await records.next()).value;
  if (!Array.isArray(header) || header[0] !== FORMAT) corrupt('no key-value snapshot header');
  const version = header[1];
  if (version !== VERSION && version !== VERSION_WITH_SETTINGS)
    corrupt(`unsupported version ${String(version)}`);
  if (header.length !== (version === VERSION ? 4 : 5)) corrupt('bad header');
  const keyCount = header[2];
  const sessionCount = header[3];
  const settingCount = version === VERSION ? 0 : header[4];
  if (!isCount(keyCount) || !isCount(sessionCount) || !isCount(settingCount)) corrupt('bad record counts');
  // A version 2 snapshot always has settings: none would have been written as version 1.
  if (version === VERSION_WITH_SETTINGS && settingCount === 0) corrupt('version 2 without settings');

  const entries = await readPairs(records, keyCount, 'key');

  const sessions: SessionRecord[] = [];
  const members = new Set<string>();
  for (let i = 0; i < sessionCount; i++) {
    const r = await nextRecord(records, 'session');
    const [member, floor, seqs] = r;
    if (r.length !== 3 || typeof member !== 'string' || member === '' || members.has(member)) {
      corrupt(`bad session record ${i}`);
    }
    if (!isCount(floor) || !isAscendingSeqs(seqs, floor)) corrupt(`bad seqs in session record ${i}`);
    members.add(member);
    sessions.push({ member, floor, seqs });
  }
  const settings = await readPairs(records, settingCount, 'setting');
  if ((await records.next()).done !== true) corrupt('data after the last record');
  return { entries, sessions, settings };
}

/** `count` records of `[key, bytes]` in strictly ascending key order. */
async function readPairs(
  records: AsyncGenerator<unknown>,
  count: number,
  what: string,
): Promise<Map<string, Uint8Array>> {
  const pairs = new Map<string, Uint8Array>();
  let previous: string | null = null;
  for (let i = 0; i < count; i++) {
    const r = await nextRecord(records, what);
    const [key, value] = r;
    if (r.length !== 2 || typeof key !== 'string' || key === '' || !(value instanceof Uint8Array)) {
      corrupt(`bad ${what} record ${i}`);
    }
    // Strictly ascending keys: catches duplicates and reordering, and keeps the form canonical.
    if (previous !== null && key <= previous) corrupt(`${what} record ${i} out of order`);
    previous = key;
    // Decoded bytes are views into the decoder's buffer: copy, so the state keeps only its values.
    pairs.set(key, copyBytes(value));
  }
  return pairs;
}

async function nextRecord(records: AsyncGenerator<unknown>, what: string): Promise<unknown[]> {
  const next = await records.next();
  if (next.done === true) corrupt(`truncated: missing ${what} records`);
  if (!Array.isArray(next.value)) corrupt(`bad ${what} record`);
  return next.value;
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function isAscendingSeqs(seqs: unknown, floor: number): seqs is number[] {
  if (!Array.isArray(seqs)) return false;
  let previous = floor;
  for (const seq of seqs) {
    if (!Number.isSafeInteger(seq) || seq <= previous) return false;
    previous = seq;
  }
  return true;
}

function corrupt(message: string): never {
  throw new RaftError('CORRUPTION', `snapshot: ${message}`);
}
