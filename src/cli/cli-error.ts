/**
 * The two ways a command fails on purpose, and the exit codes. Anything else that escapes a command
 * is a bug and is printed with its stack (exit code 1).
 */

/** Exit codes, one per class of outcome (docs/cli.md, "Exit codes"). */
export const EXIT = {
  OK: 0,
  /** The request could not be completed: no member running, unreachable, refused, timed out. */
  FAILURE: 1,
  /** Anything invalid: arguments, a key or value the library refuses, a malformed request. */
  INVALID: 2,
  /** `get`: the key has no value. */
  NOT_FOUND: 3,
} as const;

/** Error codes of a member that mean the request itself was invalid. */
const INVALID_CODES: ReadonlySet<string> = new Set(['BAD_REQUEST', 'INVALID_INPUT']);

/** The exit code for a member's error code. */
export function exitCodeOf(code: string): number {
  return INVALID_CODES.has(code) ? EXIT.INVALID : EXIT.FAILURE;
}

/** A command-line mistake: reported with the command's usage text and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
  readonly exitCode = EXIT.INVALID;
}

/** A failure the user can act on (no member running, broker unreachable, …): message only. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** The process exit code; 1 unless a command documents another one. */
    readonly exitCode: number = EXIT.FAILURE,
    /** A stable code for `--json` output: a member's error code, or one of the CLI's own. */
    readonly code = 'FAILED',
  ) {
    super(message);
  }
}
