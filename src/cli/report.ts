/** How `mqtt-raft` reports a failed command: text on stderr, or a JSON line on stdout with `--json`. */
import { CliError, UsageError } from './cli-error.js';

/** True when `--json` is among the options (before any `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Reports `err` if it is a {@link UsageError} or {@link CliError} and returns its exit code; throws
 * anything else back (a bug). Under `--json` the error is one line on stdout,
 * `{"ok":false,"error":{"code":…,"message":…}}`, like a member's own refusals.
 */
export function reportFailure(
  err: unknown,
  context: { command: string; usage?: string | undefined; json: boolean },
): number {
  if (!(err instanceof UsageError || err instanceof CliError)) throw err;
  if (context.json) {
    process.stdout.write(
      `${JSON.stringify({ ok: false, error: { code: err.code, message: err.message } })}\n`,
    );
  } else {
    const usage = err instanceof UsageError && context.usage !== undefined ? `\n\n${context.usage}` : '';
    process.stderr.write(`mqtt-raft ${context.command}: ${err.message}${usage}\n`);
  }
  return err.exitCode;
}
