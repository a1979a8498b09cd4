import type { Clock, ClockTimer } from '../../src/clock.js';

/** One pending callback of the simulated clock. */
interface Timer extends ClockTimer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** Orders timers by due time, then by the order they were set: ties fire first-come first-served. */
function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * Simulated time for a whole stack: every timer of every process, of the network and of the
 * clients sits in one priority queue ordered by (time, sequence). The run loop lets all pending
 * promise work finish, then jumps to the next timer. Nothing real may be pending meanwhile (the
 * memory stores and the in-memory network are promise-based), so a seed replays exactly.
 */
export class SimScheduler {
  private time = 0;
  private seq = 0;
  private readonly heap: Timer[] = [];
  /** Errors thrown by timer callbacks: a callback must never throw, so each is a finding. */
  readonly errors: unknown[] = [];
  /** Timers fired so far. */
  fired = 0;

  get now(): number {
    return this.time;
  }

  /** Runs `fire` at `now + ms` (ms ≥ 0; a zero delay still waits for pending promise work). */
  schedule(ms: number, fire: () => void): ClockTimer {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: Timer = { at: this.time + delay, seq: this.seq++, fire, cancelled: false };
    this.push(timer);
    return timer;
  }

  cancel(timer: ClockTimer): void {
    (timer as Timer).cancelled = true;
  }

  /** A {@link Clock} on this scheduler for code that no process owns (network, clients). */
  clock(): Clock {
    return {
      now: () => this.time,
      setTimeout: (callback, ms) => this.schedule(ms, callback),
      clearTimeout: (timer) => this.cancel(timer),
      setInterval: (callback, ms) => {
        const handle: { current: ClockTimer | null } = { current: null };
        const again = () => {
          handle.current = this.schedule(ms, again);
          callback();
        };
        handle.current = this.schedule(ms, again);
        return handle as ClockTimer;
      },
      clearInterval: (timer) => {
        const current = (timer as { current: ClockTimer | null }).current;
        if (current !== null) this.cancel(current);
      },
    };
  }

  /**
   * Fires timers in order until `done()` holds after the promise work of a step settled, or
   * simulated time would pass `until`. Returns whether `done()` held.
   */
  async runUntil(done: () => boolean, until: number): Promise<boolean> {
    for (;;) {
      await settle();
      if (done()) return true;
      const next = this.pop();
      if (next === null || next.at > until) {
        if (next !== null) this.push(next);
        this.time = Math.max(this.time, until);
        return done();
      }
      this.time = next.at;
      this.fired++;
      try {
        next.fire();
      } catch (err) {
        this.errors.push(err);
      }
    }
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Timer, heap[parent] as Timer)) break;
      [heap[i], heap[parent]] = [heap[parent] as Timer, heap[i] as Timer];
      i = parent;
    }
  }

  /** The earliest live timer, removed from the queue; cancelled ones are discarded on the way. */
  private pop(): Timer | null {
    const heap = this.heap;
    while (heap.length > 0) {
      const top = heap[0] as Timer;
      const last = heap.pop() as Timer;
      if (heap.length > 0) {
        heap[0] = last;
        this.siftDown(0);
      }
      if (!top.cancelled) return top;
    }
    return null;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < heap.length && before(heap[l] as Timer, heap[least] as Timer)) least = l;
      if (r < heap.length && before(heap[r] as Timer, heap[least] as Timer)) least = r;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least] as Timer, heap[i] as Timer];
      i = least;
    }
  }
}

/** Resolves once every promise job queued so far, and every job those queue, has run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * One process's view of the simulated clock. It tracks the process's timers, so a crash cancels
 * every one of them and ignores timers set later (the process is gone), and a pause holds the
 * timers that come due until the process resumes, as a stopped process would see them.
 */
export class ProcessClock implements Clock {
  private readonly live = new Set<ClockTimer>();
  private dead = false;
  private paused = false;
  private readonly killListeners: Array<() => void> = [];
  private held: Array<{ handle: { current: ClockTimer | null }; fire: () => void }> = [];

  constructor(private readonly scheduler: SimScheduler) {}

  now(): number {
    return this.scheduler.now;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const handle: { current: ClockTimer | null } = { current: null };
    if (this.dead) return handle as ClockTimer;
    handle.current = this.arm(ms, () => callback(), handle);
    return handle as ClockTimer;
  }

  clearTimeout(timer: ClockTimer): void {
    this.disarm(timer);
  }

  setInterval(callback: () => void, ms: number): ClockTimer {
    const handle: { current: ClockTimer | null } = { current: null };
    if (this.dead) return handle as ClockTimer;
    const again = () => {
      if (this.dead) return;
      handle.current = this.arm(ms, again, handle);
      callback();
    };
    handle.current = this.arm(ms, again, handle);
    return handle as ClockTimer;
  }

  clearInterval(timer: ClockTimer): void {
    this.disarm(timer);
  }

  /** Calls `listener` when the process dies. */
  onKill(listener: () => void): void {
    this.killListeners.push(listener);
  }

  get killed(): boolean {
    return this.dead;
  }

  /** The process died: none of its timers fires any more. */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    for (const listener of this.killListeners) listener();
    for (const handle of this.live) this.disarm(handle);
    this.held = [];
  }

  pause(): void {
    this.paused = true;
  }

  /** Runs the timers that came due while paused, in the order they came due, then runs on normally. */
  resume(): void {
    if (this.dead) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const { handle, fire } of held) {
      // A timer cleared while held never fires.
      this.scheduler.schedule(0, () => (this.dead || handle.current === null ? undefined : fire()));
    }
  }

  private arm(ms: number, fire: () => void, handle: { current: ClockTimer | null }): ClockTimer {
    this.live.add(handle as ClockTimer);
    return this.scheduler.schedule(ms, () => {
      if (this.dead) return;
      if (handle.current === null) return;
      this.live.delete(handle as ClockTimer);
      if (this.paused) this.held.push({ handle, fire });
      else fire();
    });
  }

  private disarm(timer: ClockTimer): void {
    const handle = timer as { current: ClockTimer | null };
    if (handle.current !== null) this.scheduler.cancel(handle.current);
    handle.current = null;
    this.live.delete(timer);
  }
}
