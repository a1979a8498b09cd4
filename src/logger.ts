/** Severity of a log line, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The levels in order of severity. */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Where the library writes what it does: role changes, elections, membership changes, snapshots,
 * dropped messages (at a bounded rate), connection loss and recovery, and fail-stops. The
 * details come first and the message second, as pino takes them, so a pino logger (or a child of
 * one) can be passed as it is. A method must not throw.
 */
export interface Logger {
  debug(details: Record<string, unknown>, message: string): void;
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/** A logger that writes nothing: the default. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/** True when `value` has the four methods of a {@link Logger}. */
export function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const methods = value as Record<string, unknown>;
  return LOG_LEVELS.every((level) => typeof methods[level] === 'function');
}
