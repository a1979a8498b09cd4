import { concatBytes, fromUtf8, readUint64BE, uint64BE, utf8 } from './bytes.js';
import { corruption } from './validate.js';

/**
 * Key layout of a {@link RaftStore}, one LevelDB database with three sublevels:
 *
 * - `log`:    key = index as 8 bytes big-endian, so LevelDB's byte order is index order and the
 *             first and last index are one seek each; value = an encoded entry.
 * - `stable`: `u/<user key bytes>` for StableStore keys, `r/<name>` for the store's own records
 *             (the hard state). The prefixes differ, so no user key can overwrite an internal one.
 * - `snap`:   `meta/<id>` holds a complete snapshot's metadata record, `data/<id>/<seq>` its chunks
 *             (seq as 8 bytes big-endian). Metadata and data live in separate ranges so that listing
 *             snapshots reads only the small metadata records, never the chunk keys.
 */

/** Sublevel names. */
export const SUBLEVELS = { log: 'log', stable: 'stable', snap: 'snap' } as const;

/** The `log` key of `index`. */
export function logKey(index: number): Uint8Array {
  return uint64BE(index);
}

/** The index a `log` key stands for; a key of any other shape means the database is damaged. */
export function logKeyIndex(key: Uint8Array): number {
  const index = key.length === 8 ? readUint64BE(key) : undefined;
  if (index === undefined || index === 0) throw corruption('log holds a key that is not a valid index');
  return index;
}

const USER_PREFIX = utf8('u/');

/** The `stable` key of a user key. */
export function userKey(key: Uint8Array): Uint8Array {
  return concatBytes(USER_PREFIX, key);
}

/** The `stable` key of the persisted hard state. */
export const HARD_STATE_KEY: Uint8Array = utf8('r/hardState');

/** Start of the `snap` range holding metadata records. */
export const META_PREFIX: Uint8Array = utf8('meta/');

/** Start of the `snap` range holding chunks. */
export const DATA_PREFIX: Uint8Array = utf8('data/');

/** The `snap` key of a snapshot's metadata record. */
export function metaKey(id: string): Uint8Array {
  return utf8(`meta/${id}`);
}

/** The snapshot id in a metadata key. */
export function idOfMetaKey(key: Uint8Array): string {
  return fromUtf8(key.subarray(META_PREFIX.length));
}

/** Prefix of every chunk key of snapshot `id`. */
export function chunkPrefix(id: string): Uint8Array {
  return utf8(`data/${id}/`);
}

/** The `snap` key of chunk `seq` of snapshot `id`. */
export function chunkKey(id: string, seq: number): Uint8Array {
  return concatBytes(chunkPrefix(id), uint64BE(seq));
}

/**
 * The snapshot id and chunk number in a chunk key, or undefined for a key of another shape
 * (the caller decides whether that is damage or just something to clean up).
 */
export function parseChunkKey(key: Uint8Array): { id: string; seq: number } | undefined {
  const rest = key.subarray(DATA_PREFIX.length);
  const slash = rest.length - 9;
  if (slash < 1 || rest[slash] !== 0x2f) return undefined;
  const seq = readUint64BE(rest, slash + 1);
  if (seq === undefined) return undefined;
  try {
    return { id: fromUtf8(rest.subarray(0, slash)), seq };
  } catch {
    return undefined;
  }
}
