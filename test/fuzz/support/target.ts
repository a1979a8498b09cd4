/**
 * One fuzz target per decoder: what it is fed and what must hold for every input. The vitest files
 * (test/fuzz/*.test.ts) run each target a bounded number of times with a fixed seed; `npm run fuzz`
 * (test/fuzz/run.ts) runs the same targets at length and times them.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RaftError, type RaftErrorCode } from '../../../src/errors.js';

/** What a decoder did with one input. */
export type Outcome = 'accepted' | 'rejected';

/** A decoder under fuzzing. */
export interface FuzzTarget<T> {
  readonly name: string;
  readonly inputs: fc.Arbitrary<T>;
  /** Bytes in `input`, for the time per byte. */
  readonly size: (input: T) => number;
  /** Feeds `input` to the decoder; throws when a property fails. */
  readonly check: (input: T) => Outcome | Promise<Outcome>;
  /** Releases what the target holds. */
  readonly close?: () => Promise<void>;
}

/** Any target, for lists of targets of different input types. */
// biome-ignore lint/suspicious/noExplicitAny: a list holds targets of every input type.
export type AnyTarget = FuzzTarget<any>;

/** The seed of the vitest runs: CI replays the same inputs every time. */
export const FUZZ_SEED = 20_261_202;

/** Runs of each target in vitest: bounded so that test/fuzz stays well under a minute on two loaded cores. */
export const TEST_RUNS = 300;

/** Asserts that `run` throws a RaftError of `code`, or returns; returns what it returned or null. */
export function resultOrRaftError<R>(code: RaftErrorCode, run: () => R): R | null {
  try {
    return run();
  } catch (err) {
    assert.ok(err instanceof RaftError, `expected a RaftError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return null;
  }
}

/** The same as {@link resultOrRaftError} for an async decoder. */
export async function resultOrRaftErrorAsync<R>(
  code: RaftErrorCode,
  run: () => Promise<R>,
): Promise<R | null> {
  try {
    return await run();
  } catch (err) {
    assert.ok(err instanceof RaftError, `expected a RaftError ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return null;
  }
}

/**
 * The target of a decoder of bytes that returns a value or throws a RaftError of `code`;
 * `verify` checks a returned value (it throws when a property fails).
 */
export function decoderTarget<R>(
  name: string,
  inputs: fc.Arbitrary<Uint8Array>,
  code: RaftErrorCode,
  decode: (bytes: Uint8Array) => R,
  verify: (value: R, bytes: Uint8Array) => void,
): FuzzTarget<Uint8Array> {
  return {
    name,
    inputs,
    size: (bytes) => bytes.length,
    check(bytes) {
      const decoded = resultOrRaftError(code, () => decode(bytes));
      if (decoded === null) return 'rejected';
      verify(decoded, bytes);
      return 'accepted';
    },
  };
}

/**
 * Runs `target` `numRuns` times from `seed` (fast-check prints the seed and the shrunk input of a
 * failure), and returns how many inputs were accepted and rejected.
 */
export async function assertTarget<T>(
  target: FuzzTarget<T>,
  numRuns = TEST_RUNS,
  seed = FUZZ_SEED,
): Promise<Record<Outcome, number>> {
  const counts: Record<Outcome, number> = { accepted: 0, rejected: 0 };
  try {
    await fc.assert(
      fc.asyncProperty(target.inputs, async (input) => {
        counts[await target.check(input)]++;
      }),
      { numRuns, seed },
    );
  } finally {
    await target.close?.();
  }
  return counts;
}
