import { invalidInput } from './validate.js';

/** How many complete snapshots a store keeps when the caller does not say. */
export const DEFAULT_RETAIN_SNAPSHOTS = 2;

/** Options common to both stores. */
export interface StoreOptions {
  /** How many complete snapshots to keep, newest first; older ones are deleted when a new one closes. Default 2. */
  readonly retainSnapshots?: number;
}

/** Validates `retainSnapshots`: keeping none would delete the snapshot that was just taken. */
export function resolveRetain(options: StoreOptions | undefined): number {
  const retain = options?.retainSnapshots ?? DEFAULT_RETAIN_SNAPSHOTS;
  if (!Number.isSafeInteger(retain) || retain < 1) {
    throw invalidInput(`retainSnapshots must be a positive integer, got ${String(retain)}`);
  }
  return retain;
}
