import type { SnapshotMeta } from '../core/types.js';
import type { SnapshotRecord } from './types.js';

/**
 * Snapshot ids: `<index>-<term>-<seq>`, each zero-padded to 16 decimal digits (enough for any safe
 * integer). Padding makes the byte order of ids the order snapshots are listed in (newest first
 * is simply descending id order), and `seq`, a per-store counter, keeps two snapshots of the same
 * index and term apart.
 */

const WIDTH = 16;
const ID_PATTERN = /^(\d{16})-(\d{16})-(\d{16})$/;

function pad(value: number): string {
  return String(value).padStart(WIDTH, '0');
}

/** The id of the `seq`-th snapshot a store creates, describing `meta`. */
export function formatSnapshotId(meta: SnapshotMeta, seq: number): string {
  return `${pad(meta.index)}-${pad(meta.term)}-${pad(seq)}`;
}

/** The counter part of an id, or undefined when `id` is not a snapshot id. */
export function snapshotIdSeq(id: string): number | undefined {
  const match = ID_PATTERN.exec(id);
  return match?.[3] === undefined ? undefined : Number(match[3]);
}

/** True when `id` has the shape of a snapshot id. */
export function isSnapshotId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** Sort order of {@link SnapshotStore.list}: newest first, by index, then term, then creation. */
export function newestFirst(a: SnapshotRecord, b: SnapshotRecord): number {
  return b.meta.index - a.meta.index || b.meta.term - a.meta.term || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
