/** The `node` command's log lines: JSON or timestamped text, from a chosen level up. */
import { LOG_LEVELS, type Logger, type LogLevel } from '../logger.js';

/** `json`: one JSON object per line; `text`: `<ISO time> <LEVEL> <prefix>: <message> {details}`. */
export type LogFormat = 'json' | 'text';

export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/** Keys of a JSON line that the line itself sets; details with these names are renamed. */
const RESERVED = new Set(['time', 'level', 'node', 'msg']);

/** Options of {@link lineLogger}. */
export interface LineLoggerOptions {
  readonly format: LogFormat;
  /** Lines below this level are not written. */
  readonly level: LogLevel;
  /** The member's id: the `node` field of a JSON line, in the prefix of a text line. */
  readonly id: string;
  /** Writes one line, without its newline. */
  readonly write: (line: string) => void;
  /** The time stamped on a line. Default: now. */
  readonly now?: () => Date;
}

/** A {@link Logger} that writes each call at or above `level` as one line. */
export function lineLogger(options: LineLoggerOptions): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const now = options.now ?? (() => new Date());
  const line = (level: LogLevel, details: Record<string, unknown>, message: string): void => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const time = now().toISOString();
    // The id is in every line already.
    const { localId: _, ...rest } = details;
    options.write(
      options.format === 'json'
        ? jsonLine({ time, level, node: options.id, msg: message }, rest)
        : textLine(`${time} ${level.toUpperCase().padEnd(5)} mqtt-raft node ${options.id}: ${message}`, rest),
    );
  };
  return {
    debug: (details, message) => line('debug', details, message),
    info: (details, message) => line('info', details, message),
    warn: (details, message) => line('warn', details, message),
    error: (details, message) => line('error', details, message),
  };
}

function jsonLine(head: Record<string, string>, details: Record<string, unknown>): string {
  const fields: Record<string, unknown> = { ...head };
  for (const [key, value] of Object.entries(details))
    fields[RESERVED.has(key) ? `details.${key}` : key] = value;
  return stringify(fields) ?? JSON.stringify({ ...head, details: UNSERIALIZABLE });
}

function textLine(head: string, details: Record<string, unknown>): string {
  if (Object.keys(details).length === 0) return head;
  return `${head} ${stringify(details) ?? UNSERIALIZABLE}`;
}

const UNSERIALIZABLE = '(details not serializable)';

/** JSON, or undefined for what JSON cannot hold (a cycle): a logger must not throw at its caller. */
function stringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  } catch {
    return undefined;
  }
}
