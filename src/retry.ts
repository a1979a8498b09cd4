import { type Clock, sleep, systemClock } from './clock.js';
import { isRaftError, RaftError } from './errors.js';

/** How {@link retry} repeats an operation. */
export interface RetryPolicy {
  /** Names the operation in errors. */
  readonly what: string;
  /** When to give up, in the clock's milliseconds. */
  readonly deadline: number;
  /** The clock of the deadline and of the default pause; the system clock by default. */
  readonly clock?: Clock;
  readonly signal?: AbortSignal | undefined;
  /**
   * True when repeating an attempt whose outcome is unknown cannot apply the operation twice (it
   * is deduplicated downstream, or has no effect). Otherwise only definite failures are retried,
   * and an unknown outcome is reported at once as an indefinite error.
   */
  readonly idempotent: boolean;
  /** The first pause between attempts; it doubles up to {@link maxDelayMs}. */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * Errors that end the call whatever their flags: for example `NOT_LEADER` on a server that does
   * not forward, where the caller itself must go to the leader.
   */
  readonly final?: (err: RaftError) => boolean;
  /**
   * Waits up to `ms` before the next attempt; may return early when something changed that makes
   * a new attempt worthwhile (a new leader). Defaults to a plain timer.
   */
  readonly pause?: (ms: number) => Promise<void>;
}

/** A component's defaults for the calls it retries. */
export interface RetryDefaults {
  /** The deadline of a call that gives none. */
  readonly timeoutMs: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  readonly pause?: (ms: number) => Promise<void>;
  readonly clock?: Clock;
}

/**
 * The policy of one call: its own `timeoutMs` (checked, see {@link checkTimeout}) and `signal`,
 * else the component's defaults.
 */
export function callPolicy(
  what: string,
  options: { readonly timeoutMs?: number; readonly signal?: AbortSignal },
  defaults: RetryDefaults,
  idempotent: boolean,
): RetryPolicy {
  checkTimeout(what, options.timeoutMs);
  const clock = defaults.clock ?? systemClock;
  return {
    what,
    clock,
    deadline: clock.now() + (options.timeoutMs ?? defaults.timeoutMs),
    signal: options.signal,
    idempotent,
    minDelayMs: defaults.minDelayMs,
    maxDelayMs: defaults.maxDelayMs,
    ...(defaults.pause === undefined ? {} : { pause: defaults.pause }),
  };
}

/** What an attempt learns about the next one. */
export interface AttemptContext {
  /** Milliseconds left until the deadline; always positive. */
  readonly remainingMs: number;
  /** The error of the previous attempt, or null on the first. */
  readonly previous: RaftError | null;
}

/**
 * Runs `attempt` until it succeeds, fails in a way that is not worth repeating, or the deadline
 * or signal ends the call. The only inputs to that decision are `RaftError.retryable` and
 * `RaftError.indefinite` (design §7, "one retry policy"); an error that is not a `RaftError` is
 * never retried.
 *
 * The final error keeps its code, and is indefinite when any attempt's outcome was unknown: an
 * earlier attempt may still take effect, so a later definite refusal does not make the call's
 * outcome known.
 */
export async function retry<T>(
  policy: RetryPolicy,
  attempt: (context: AttemptContext) => Promise<T>,
): Promise<T> {
  const clock = policy.clock ?? systemClock;
  const pause = policy.pause ?? ((ms: number) => sleep(clock, ms));
  let backoff = policy.minDelayMs;
  let previous: RaftError | null = null;
  let uncertain = false;
  let followedHint = false;
  for (;;) {
    const remainingMs = policy.deadline - clock.now();
    if (policy.signal?.aborted === true || remainingMs <= 0) {
      throw finalError(previous ?? endedBeforeStart(policy, remainingMs), uncertain);
    }
    try {
      return await attempt({ remainingMs, previous });
    } catch (err) {
      if (!isRaftError(err)) throw err;
      uncertain ||= err.indefinite;
      const again = err.retryable && (policy.idempotent || !err.indefinite) && policy.final?.(err) !== true;
      if (!again || isAborted(policy.signal)) throw finalError(err, uncertain);
      previous = err;
    }
    // A pointer to a new leader is worth following at once, but only once in a row: two servers
    // with stale hints could otherwise bounce the call between them without pause.
    if (!followedHint && previous.code === 'NOT_LEADER' && previous.leader !== null) {
      followedHint = true;
      continue;
    }
    followedHint = false;
    const left = policy.deadline - clock.now();
    if (left <= 0) continue;
    await pause(Math.min(backoff, left));
    backoff = Math.min(policy.maxDelayMs, backoff * 2);
  }
}

/** `err`, made indefinite when an earlier attempt's outcome is unknown. */
function finalError(err: RaftError, uncertain: boolean): RaftError {
  if (!uncertain || err.indefinite) return err;
  return new RaftError(err.code, `${err.message} (an earlier attempt may still take effect)`, {
    retryable: err.retryable,
    indefinite: true,
    leader: err.leader,
    cause: err,
  });
}

function endedBeforeStart(policy: RetryPolicy, remainingMs: number): RaftError {
  const why = remainingMs <= 0 ? 'the deadline passed' : 'aborted';
  return new RaftError('TIMEOUT', `${policy.what}: ${why} before the first attempt`, {
    retryable: true,
    cause: policy.signal?.reason,
  });
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/**
 * Checks a caller's `timeoutMs`: a finite number of milliseconds, zero or more. `NaN` or a
 * negative value would make every deadline comparison false and a call that never ends.
 *
 * @throws RaftError `INVALID_INPUT`
 */
export function checkTimeout(what: string, timeoutMs: unknown): void {
  if (timeoutMs === undefined) return;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0) {
    throw new RaftError(
      'INVALID_INPUT',
      `${what}: timeoutMs must be a finite number of milliseconds, 0 or more (got ${String(timeoutMs)})`,
    );
  }
}
