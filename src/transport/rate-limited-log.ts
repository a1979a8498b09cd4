import type { Logger, LogLevel } from '../logger.js';

/** How often, at most, one kind of event is logged. */
export const LOG_INTERVAL_MS = 10_000;

/**
 * Logs each kind of event at most once per interval, with the number of events not logged since.
 * For what a sender on the broker can cause at will (forgeries, replays, malformed payloads): a
 * flood of them must not become a flood of log lines. The kinds are a fixed set of reasons, so
 * the map stays small.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  log(level: LogLevel, kind: string, message: string, details: Record<string, unknown>): void {
    const now = this.now();
    const seen = this.last.get(kind);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(kind, { at: now, suppressed: 0 });
    this.logger[level](suppressed > 0 ? { ...details, suppressed } : details, message);
  }
}
