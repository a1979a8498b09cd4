import type { Entry } from '../core/types.js';
import { invalidInput } from './validate.js';

/**
 * The rules that keep a stored log one contiguous range [first, last] (the {@link LogStore}
 * contract). Both stores apply them before writing, so a misuse is refused with `INVALID_INPUT`
 * instead of leaving a hole that `RaftStore.open()` would later report as corruption.
 */

/** The stored range; `{ first: 0, last: 0 }` when the log is empty. */
export interface LogBounds {
  readonly first: number;
  readonly last: number;
}

/** The bounds of an empty log. */
export const EMPTY_BOUNDS: LogBounds = { first: 0, last: 0 };

/**
 * Checks a `storeLogs` (entries already consecutive) and returns the bounds after it. The entries
 * replace what they overlap and nothing else, so they must overlap or touch the stored range.
 */
export function boundsAfterStore(bounds: LogBounds, entries: readonly Entry[]): LogBounds {
  const from = entries[0]?.index;
  const to = entries[entries.length - 1]?.index;
  if (from === undefined || to === undefined) return bounds;
  if (bounds.last === 0) return { first: from, last: to };
  if (from > bounds.last + 1 || to < bounds.first - 1) {
    throw invalidInput(
      `entries [${from}, ${to}] would leave a gap next to the stored log [${bounds.first}, ${bounds.last}]`,
    );
  }
  return { first: Math.min(from, bounds.first), last: Math.max(to, bounds.last) };
}

/**
 * Checks a `writeBatch` and returns the bounds after it. Without `resetLog`, everything from
 * `entries[0].index` on is replaced, so the entries must start at or before `last + 1`.
 */
export function boundsAfterBatch(bounds: LogBounds, entries: readonly Entry[], resetLog: boolean): LogBounds {
  const base = resetLog ? EMPTY_BOUNDS : bounds;
  const from = entries[0]?.index;
  const to = entries[entries.length - 1]?.index;
  if (from === undefined || to === undefined) return base;
  if (base.last === 0) return { first: from, last: to };
  if (from > base.last + 1) {
    throw invalidInput(
      `entries starting at ${from} would leave a gap after the stored log's last index ${base.last}`,
    );
  }
  // Truncating below the first stored index replaces the whole log.
  return { first: from < base.first ? from : base.first, last: to };
}

/**
 * Checks a `deleteRange(min, max)` and returns the bounds after it. Raft only removes a prefix
 * (compaction) or a suffix (conflicting entries, Raft §5.3); removing a middle part would split
 * the log, so it is refused.
 */
export function boundsAfterDelete(bounds: LogBounds, min: number, max: number): LogBounds {
  if (min > max || bounds.last === 0 || max < bounds.first || min > bounds.last) return bounds;
  const keepsBelow = min > bounds.first;
  const keepsAbove = max < bounds.last;
  if (keepsBelow && keepsAbove) {
    throw invalidInput(
      `deleteRange(${min}, ${max}) would split the stored log [${bounds.first}, ${bounds.last}]; ` +
        'only a prefix or a suffix can be deleted',
    );
  }
  if (keepsBelow) return { first: bounds.first, last: min - 1 };
  if (keepsAbove) return { first: max + 1, last: bounds.last };
  return EMPTY_BOUNDS;
}
