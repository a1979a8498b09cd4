/**
 * The two ways a command fails on purpose. Anything else that escapes a command is a bug and is
 * printed with its stack (exit code 1).
 */

/** A command-line mistake: reported with the command's usage text and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the user can act on (no member running, broker unreachable, …): message only. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** The process exit code; 1 unless a command documents another one. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
