/** A pending timer of a {@link Clock}; opaque to its users. */
export interface ClockTimer {
  /** Lets the process exit while only this timer is pending (system clock only). */
  unref?(): unknown;
}

/**
 * Time as the node and the binding see it: every wait, timeout, back-off and timestamp goes
 * through one, so a simulation can run the whole stack on simulated time. The default is
 * {@link systemClock}; nothing in `src/node` or `src/binding` reads the global timers or `Date`.
 */
export interface Clock {
  /** Milliseconds since the epoch (or since the simulation began). */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer): void;
  setInterval(callback: () => void, ms: number): ClockTimer;
  clearInterval(timer: ClockTimer): void;
}

/** The process's own clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}
