import type { MqttLogger, MqttLogLevel } from './mqtt-options.js';

/** How often, at most, one kind of event is logged. */
export const LOG_INTERVAL_MS = 10_000;

/**
 * Logs each kind of event at most once per interval, with the number of events not logged since.
 * For what a sender on the broker can cause at will (forgeries, replays, retained messages): a
 * flood of them must not become a flood of log lines. The kinds are a fixed set of reasons, so
 * the map stays small.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: MqttLogger | undefined,
    private readonly intervalMs = LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  log(level: MqttLogLevel, kind: string, message: string, details: Record<string, unknown>): void {
    if (this.logger === undefined) return;
    const now = this.now();
    const seen = this.last.get(kind);
    if (seen !== undefined && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(kind, { at: now, suppressed: 0 });
    this.logger(level, message, suppressed > 0 ? { ...details, suppressed } : details);
  }
}
