/** The `node` command's log and metrics options. */
import { LOG_LEVELS, type Logger, type LogLevel } from '../logger.js';
import { type OptionSpec, type OptionValues, stringOption } from './args.js';
import { UsageError } from './cli-error.js';
import { LOG_FORMATS, type LogFormat, lineLogger } from './log-output.js';

export const OBSERVABILITY_OPTIONS = {
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
} as const satisfies OptionSpec;

export const OBSERVABILITY_OPTIONS_USAGE = `  --log-format <format>   log lines on stderr: text (timestamped, the default) or json
  --log-level <level>     the least severe level logged: debug, info (default), warn or error
  --metrics-port <port>   serve Prometheus metrics at http://<host>:<port>/metrics (0: any free port)
  --metrics-host <host>   the address the metrics endpoint listens on (default 127.0.0.1)`;

/** What the flags say about logs and metrics. */
export interface ObservabilitySettings {
  readonly logger: Logger;
  /** Where to serve metrics; null without `--metrics-port`. */
  readonly metrics: { host: string; port: number } | null;
}

/** Reads the log and metrics flags; a bad value is a usage error. */
export function observabilitySettings(values: OptionValues, id: string): ObservabilitySettings {
  const format = choice(values, 'log-format', LOG_FORMATS, 'text');
  const level = choice(values, 'log-level', LOG_LEVELS, 'info');
  const logger = lineLogger({
    format,
    level,
    id,
    write: (line) => process.stderr.write(`${line}\n`),
  });
  const rawPort = stringOption(values, 'metrics-port');
  const host = stringOption(values, 'metrics-host');
  if (rawPort === undefined) {
    if (host !== undefined) throw new UsageError('--metrics-host needs --metrics-port');
    return { logger, metrics: null };
  }
  if (!/^\d{1,5}$/.test(rawPort) || Number(rawPort) > 65_535) {
    throw new UsageError(`--metrics-port must be an integer from 0 to 65535, got '${rawPort}'`);
  }
  if (host === '') throw new UsageError('--metrics-host must not be empty');
  return { logger, metrics: { host: host ?? '127.0.0.1', port: Number(rawPort) } };
}

function choice<T extends LogFormat | LogLevel>(
  values: OptionValues,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${raw}'`);
  }
  return raw as T;
}
