import type { Logger, LogLevel } from '../../src/logger.js';

/** One call of a {@link RecordingLogger}. */
export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** A {@link Logger} that keeps every line, for tests that check what was logged. */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];

  debug(details: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'debug', message, details });
  }

  info(details: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'info', message, details });
  }

  warn(details: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'warn', message, details });
  }

  error(details: Record<string, unknown>, message: string): void {
    this.lines.push({ level: 'error', message, details });
  }

  /** The lines at `level` whose message matches `pattern`. */
  find(level: LogLevel, pattern: RegExp): LogLine[] {
    return this.lines.filter((l) => l.level === level && pattern.test(l.message));
  }
}
