import type { Entry, EntryType, HardState, SnapshotMeta } from '../core/types.js';
import { RaftError } from '../errors.js';
import { copyBytes, utf8 } from './bytes.js';
import { hardStateSchema, snapshotMetaSchema } from './schemas.js';
import type { StableKey, StorageBatch } from './types.js';

/**
 * Checks on what callers hand a store. Both stores run the same checks so they reject the same
 * inputs with the same `INVALID_INPUT` code; every check happens before anything is written.
 */

/** Entry types, in the order of their one-byte codes in the on-disk format (never reorder). */
export const ENTRY_TYPES: readonly EntryType[] = ['command', 'noop', 'config', 'barrier'];

/** Shorthand for an `INVALID_INPUT` error. */
export function invalidInput(message: string): RaftError {
  return new RaftError('INVALID_INPUT', message);
}

/** Shorthand for a `CORRUPTION` error. */
export function corruption(message: string, cause?: unknown): RaftError {
  return new RaftError('CORRUPTION', message, cause === undefined ? {} : { cause });
}

/** Shorthand for the error of a store used after `close()` (or before `open()`). */
export function shutdown(what: string): RaftError {
  return new RaftError('SHUTDOWN', `${what} is closed`);
}

function isSafeUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Asserts that `value` is a log index: a positive safe integer. */
export function assertIndex(value: unknown, name = 'index'): asserts value is number {
  if (!isSafeUint(value) || value === 0) {
    throw invalidInput(`${name} must be a positive safe integer, got ${String(value)}`);
  }
}

/** Asserts that `value` is a non-negative safe integer (what `setUint64` accepts). */
export function assertUint64(value: unknown, name = 'value'): asserts value is number {
  if (!isSafeUint(value)) {
    throw invalidInput(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

/** Asserts that `value` is bytes. */
export function assertBytes(value: unknown, name = 'value'): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidInput(`${name} must be a Uint8Array`);
}

/** The bytes of a stable-store key; strings count as their UTF-8 bytes, so 'a' and [0x61] are one key. */
export function stableKeyBytes(key: StableKey): Uint8Array {
  if (typeof key === 'string') return utf8(key);
  if (key instanceof Uint8Array) return key;
  throw invalidInput('stable key must be a string or a Uint8Array');
}

/** Validates one entry and returns a private copy (so a caller mutating its data later changes nothing). */
export function checkEntry(entry: unknown): Entry {
  if (typeof entry !== 'object' || entry === null) throw invalidInput('entry must be an object');
  const { index, term, type, data } = entry as Record<string, unknown>;
  assertIndex(index, 'entry index');
  assertUint64(term, `term of entry ${index}`);
  if (!ENTRY_TYPES.includes(type as EntryType)) {
    throw invalidInput(`type of entry ${index} must be one of ${ENTRY_TYPES.join(', ')}`);
  }
  assertBytes(data, `data of entry ${index}`);
  return { index, term, type: type as EntryType, data: copyBytes(data) };
}

/**
 * Validates entries written together and returns private copies. They must have consecutive
 * indexes: the log is one contiguous range, and a batch with a hole would break that.
 */
export function checkEntries(entries: unknown): Entry[] {
  if (!Array.isArray(entries)) throw invalidInput('entries must be an array');
  const out = entries.map(checkEntry);
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1] as Entry;
    const cur = out[i] as Entry;
    if (cur.index !== prev.index + 1) {
      throw invalidInput(`entries must have consecutive indexes: ${cur.index} follows ${prev.index}`);
    }
  }
  return out;
}

/** Validates a hard state. */
export function checkHardState(value: unknown): HardState {
  const parsed = hardStateSchema.safeParse(value);
  if (!parsed.success) throw invalidInput(`invalid hard state: ${parsed.error.message}`);
  return parsed.data;
}

/** Validates snapshot metadata and returns a deep copy. */
export function checkSnapshotMeta(value: unknown): SnapshotMeta {
  const parsed = snapshotMetaSchema.safeParse(value);
  if (!parsed.success) throw invalidInput(`invalid snapshot meta: ${parsed.error.message}`);
  return parsed.data;
}

/** Validates a {@link StorageBatch}, returning its parts with entries copied. */
export function checkBatch(batch: unknown): {
  resetLog: boolean;
  entries: Entry[];
  hardState: HardState | null;
} {
  if (typeof batch !== 'object' || batch === null) throw invalidInput('batch must be an object');
  const { resetLog, entries, hardState } = batch as Partial<Record<keyof StorageBatch, unknown>>;
  if (typeof resetLog !== 'boolean') throw invalidInput('batch.resetLog must be a boolean');
  return {
    resetLog,
    entries: checkEntries(entries),
    // `undefined` is read as "unchanged", like null, for callers written in plain JavaScript.
    hardState: hardState === null || hardState === undefined ? null : checkHardState(hardState),
  };
}
