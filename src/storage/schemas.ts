import { z } from 'zod';
import type { SnapshotMeta } from '../core/types.js';

/**
 * Zod schemas for the structured values a store keeps. The same schema checks a caller's input
 * (a failure is `INVALID_INPUT`) and a decoded record (a failure is `CORRUPTION`), so what a store
 * accepts and what it can read back never drift apart.
 */

/** A non-negative safe integer: terms, commit indexes, sizes. */
export const uint = z.int().min(0);

/** Schema of a `Configuration` (core/types.ts). */
export const configurationSchema = z.object({
  servers: z.array(
    z.object({
      id: z.string(),
      suffrage: z.enum(['voter', 'nonvoter', 'staging']),
    }),
  ),
});

/** Schema of a `SnapshotMeta` (core/types.ts). */
export const snapshotMetaSchema = z.object({
  index: uint,
  term: uint,
  config: configurationSchema,
  configIndex: uint,
});

/** Schema of a `HardState` (core/types.ts). */
export const hardStateSchema = z.object({
  term: uint,
  vote: z.string().nullable(),
  commit: uint,
});

/** The metadata record of a complete snapshot in a {@link RaftStore}. */
export const storedSnapshotSchema = z.object({
  meta: snapshotMetaSchema,
  /** Total bytes of data. */
  size: uint,
  /** Number of chunks, numbered 0 to chunks - 1. */
  chunks: uint,
  /** CRC-32C of the whole data, chunk after chunk: catches a lost or reordered chunk. */
  crc: uint.max(0xffff_ffff),
});

/** A snapshot's metadata record as stored (see {@link storedSnapshotSchema}). */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly size: number;
  readonly chunks: number;
  readonly crc: number;
}
