import type { Entry } from '../core/types.js';
import { decodeEntry } from './codec.js';
import { logKey, logKeyIndex } from './keys.js';
import type { ByteSublevel } from './level-db.js';
import { EMPTY_BOUNDS, type LogBounds } from './log-rules.js';
import { corruption } from './validate.js';

/** Reads of the `log` sublevel of a {@link RaftStore}. */

/** The lowest (or with `reverse`, highest) stored index, or 0: one seek, as keys sort in index order. */
export async function readEnd(log: ByteSublevel, reverse: boolean): Promise<number> {
  const [key] = await log.keys({ limit: 1, reverse }).all();
  return key === undefined ? 0 : logKeyIndex(key);
}

/** The stored range. */
export async function readBounds(log: ByteSublevel): Promise<LogBounds> {
  const first = await readEnd(log, false);
  return first === 0 ? EMPTY_BOUNDS : { first, last: await readEnd(log, true) };
}

/** The entry at `index`, checked, or undefined. */
export async function readEntry(log: ByteSublevel, index: number): Promise<Entry | undefined> {
  const value = await log.get(logKey(index));
  return value === undefined ? undefined : decodeEntry(value, index);
}

/** The entries in [from, to], checked, in index order. */
export async function readEntries(log: ByteSublevel, from: number, to: number): Promise<Entry[]> {
  if (from > to) return [];
  const out: Entry[] = [];
  for await (const [key, value] of log.iterator({ gte: logKey(from), lte: logKey(to) })) {
    const index = logKeyIndex(key);
    out.push(decodeEntry(value, index));
  }
  return out;
}

/**
 * Reads the whole log and checks every entry (shape, CRC, key) and that the indexes are
 * contiguous; returns the bounds. This is what `RaftStore.open()` runs: a node must refuse to
 * start on a damaged log rather than send wrong entries to its peers.
 */
export async function verifyLog(log: ByteSublevel): Promise<LogBounds> {
  let first = 0;
  let last = 0;
  for await (const [key, value] of log.iterator()) {
    const index = logKeyIndex(key);
    decodeEntry(value, index);
    if (first === 0) first = index;
    else if (index !== last + 1) throw corruption(`log is missing entries ${last + 1} to ${index - 1}`);
    last = index;
  }
  return first === 0 ? EMPTY_BOUNDS : { first, last };
}
