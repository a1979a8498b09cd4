import type { NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { WireError } from './types.js';

/**
 * An error in its wire form: a RaftError keeps its code and flags; anything else becomes
 * `fallback` with its message. `leaderHint` fills in the leader when the error names none.
 */
export function toWire(
  err: unknown,
  fallback: Omit<WireError, 'message' | 'leader'>,
  leaderHint: NodeId | null = null,
): WireError {
  if (err instanceof RaftError) {
    return {
      code: err.code,
      message: err.message,
      retryable: err.retryable,
      indefinite: err.indefinite,
      leader: err.leader ?? leaderHint,
    };
  }
  return { ...fallback, message: describe(err), leader: leaderHint };
}

/** Rebuilds a RaftError from its wire form, with `context` (if any) in front of the message. */
export function fromWire(error: WireError, context?: string): RaftError {
  return new RaftError(error.code, context === undefined ? error.message : `${context}: ${error.message}`, {
    retryable: error.retryable,
    indefinite: error.indefinite,
    leader: error.leader,
  });
}

/** A message for any thrown value. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
