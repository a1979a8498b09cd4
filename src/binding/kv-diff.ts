import type { Input } from './input.js';

/**
 * The changes that turn `before` into `after`, in key order: a `set` for each key that is new or
 * whose bytes changed, a `delete` for each key that is gone. Values are shared, not copied.
 */
export function kvDiff(
  before: ReadonlyMap<string, Uint8Array>,
  after: ReadonlyMap<string, Uint8Array>,
): Input[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const changes: Input[] = [];
  for (const key of [...keys].sort()) {
    const old = before.get(key);
    const value = after.get(key);
    if (value === undefined) changes.push({ op: 'delete', key });
    else if (old === undefined || !sameBytes(old, value)) changes.push({ op: 'set', key, value });
  }
  return changes;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  // Stryker disable next-line ConditionalExpression: a shortcut; Buffer.compare also tells buffers of different lengths apart
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.compare(a, b) === 0;
}
