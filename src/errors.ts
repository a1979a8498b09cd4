/**
 * Every failure the library reports carries one of these codes, so callers can branch on the code
 * instead of parsing messages.
 */
export type RaftErrorCode =
  | 'NOT_LEADER'
  | 'LEADERSHIP_LOST'
  | 'TIMEOUT'
  | 'SHUTDOWN'
  | 'INVALID_INPUT'
  | 'INVALID_CONFIG'
  | 'CORRUPTION'
  | 'UNREACHABLE'
  | 'OBSERVER_OVERFLOW'
  | 'TRANSFER_IN_PROGRESS'
  | 'CONFIG_CHANGE_IN_PROGRESS'
  | 'CONFIGURATION_CHANGED'
  | 'UNSUPPORTED'
  /** The group refused a proposal for good: it was not applied and never will be. */
  | 'EXPIRED'
  /** This member was removed from its group (it left, or another member removed it). */
  | 'REMOVED'
  /**
   * What this member would be clashes with what is live on the broker: its id is in use by
   * another running process, or it would bootstrap a second group under a cluster name that has one.
   */
  | 'CONFLICT';

/** Options that qualify a {@link RaftError}. */
export interface RaftErrorOptions {
  /** True when retrying the same call later may succeed. */
  retryable?: boolean;
  /**
   * True when the outcome is unknown: the operation may still take effect (for example, a proposal
   * that timed out after it was sent). Never treat an indefinite error as "did not happen".
   */
  indefinite?: boolean;
  /** The known leader, for `NOT_LEADER`. */
  leader?: string | null;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** The single error class of mqtt-raft. Branch on {@link RaftError.code}. */
export class RaftError extends Error {
  override readonly name = 'RaftError';
  /** What went wrong, as a stable code. */
  readonly code: RaftErrorCode;
  /** True when retrying the same call later may succeed. */
  readonly retryable: boolean;
  /** True when the operation may still take effect despite this error. */
  readonly indefinite: boolean;
  /** The known leader's id when {@link code} is `NOT_LEADER`, else null. */
  readonly leader: string | null;

  constructor(code: RaftErrorCode, message: string, options: RaftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.indefinite = options.indefinite ?? false;
    this.leader = options.leader ?? null;
  }
}

/** True when `err` is a {@link RaftError}, optionally with the given code. */
export function isRaftError(err: unknown, code?: RaftErrorCode): err is RaftError {
  return err instanceof RaftError && (code === undefined || err.code === code);
}
