/**
 * Sorting a large state by key without holding the event loop: a snapshot's capture copies the
 * entries unsorted (a few milliseconds for 100,000 keys, on the apply path), and the sort runs
 * while the snapshot is written, in runs of `slice` entries merged pairwise, with a turn of the
 * event loop between slices, so that heartbeats and commits go on (design §7: large work yields).
 */

type Keyed = readonly [string, unknown];

function byKey(a: Keyed, b: Keyed): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/**
 * `entries` (unique keys) sorted by key; the array itself is reordered when it fits one slice.
 * `yieldTurn` gives the event loop a turn (a zero-delay timer of the binding's clock).
 */
export async function sortInSlices<T extends Keyed>(
  entries: T[],
  slice: number,
  yieldTurn: () => Promise<void>,
): Promise<T[]> {
  if (entries.length <= slice) return entries.sort(byKey);
  let runs: T[][] = [];
  for (let at = 0; at < entries.length; at += slice) {
    runs.push(entries.slice(at, at + slice).sort(byKey));
    await yieldTurn();
  }
  while (runs.length > 1) {
    const merged: T[][] = [];
    for (let i = 0; i < runs.length; i += 2) {
      const a = runs[i] as T[];
      const b = runs[i + 1];
      merged.push(b === undefined ? a : await merge(a, b, slice, yieldTurn));
    }
    runs = merged;
  }
  return runs[0] as T[];
}

async function merge<T extends Keyed>(
  a: T[],
  b: T[],
  slice: number,
  yieldTurn: () => Promise<void>,
): Promise<T[]> {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const left = a[i];
    const right = b[j];
    if (right === undefined || (left !== undefined && left[0] < right[0])) {
      out.push(left as T);
      i++;
    } else {
      out.push(right);
      j++;
    }
    if (out.length % slice === 0) await yieldTurn();
  }
  return out;
}
