/**
 * Replay protection for sealed envelopes (docs/protocol.md §3, "Sealed envelopes"). Every sender
 * process (an *incarnation*) numbers its sealed envelopes 1, 2, 3, …; a receiver remembers, per
 * (sender, incarnation), the highest number seen and which of the `window` numbers below it were
 * seen. A number seen before, or older than the window, is a replay.
 *
 * Only authenticated envelopes may reach {@link ReplayGuard.accept}: anything in here is state a
 * forger could otherwise make us hold. Even so, the number of incarnations tracked is bounded (least
 * recently heard first out). Forgetting an incarnation must not reopen it to replays, so for each
 * sender we keep the newest start time of an incarnation we forgot (the start time is part of the
 * authenticated incarnation token) and refuse any incarnation of that sender that started no later.
 */

/** Why {@link ReplayGuard.accept} refused a counter. */
export type ReplayVerdict = 'ok' | 'replayed' | 'tooOld' | 'staleIncarnation';

/** Bounds of a {@link ReplayGuard}. */
export interface ReplayLimits {
  /** Counters remembered below the highest seen, per incarnation; a multiple of 32. */
  readonly window: number;
  /** Incarnations tracked at once. */
  readonly incarnations: number;
  /** Senders whose forgotten incarnations are remembered by their newest start time. */
  readonly senders: number;
}

export const DEFAULT_REPLAY_LIMITS: ReplayLimits = { window: 1024, incarnations: 1024, senders: 1024 };

/** The seen-set of one incarnation: a high-water mark and a bitmap ring of `window` bits below it. */
export class CounterWindow {
  private high = 0;
  private readonly bits: Uint32Array;

  constructor(private readonly size: number) {
    if (size <= 0 || size % 32 !== 0) throw new RangeError('window size must be a positive multiple of 32');
    this.bits = new Uint32Array(size / 32);
  }

  /** Records `n` (≥ 1) and says whether it is new. */
  accept(n: number): ReplayVerdict {
    if (n > this.high) {
      this.clearAbove(this.high, n);
      this.high = n;
      this.set(n);
      return 'ok';
    }
    if (this.high - n >= this.size) return 'tooOld';
    if (this.isSet(n)) return 'replayed';
    this.set(n);
    return 'ok';
  }

  /** Forgets the ring slots of counters high+1 … n, which now fall inside the window. */
  private clearAbove(high: number, n: number): void {
    if (n - high >= this.size) {
      this.bits.fill(0);
      return;
    }
    for (let c = high + 1; c <= n; c++) this.clear(c);
  }

  private slot(n: number): [number, number] {
    const i = n % this.size;
    return [i >>> 5, 1 << (i & 31)];
  }

  private isSet(n: number): boolean {
    const [word, mask] = this.slot(n);
    return ((this.bits[word] ?? 0) & mask) !== 0;
  }

  private set(n: number): void {
    const [word, mask] = this.slot(n);
    this.bits[word] = (this.bits[word] ?? 0) | mask;
  }

  private clear(n: number): void {
    const [word, mask] = this.slot(n);
    this.bits[word] = (this.bits[word] ?? 0) & ~mask;
  }
}

/** Counter windows of the incarnations heard from lately, bounded in number (LRU). */
export class ReplayGuard {
  /** Keyed by sender and incarnation; Map order is the LRU order (touched entries move last). */
  private readonly windows = new Map<
    string,
    { readonly sender: string; readonly startMs: number; readonly window: CounterWindow }
  >();
  /** Per sender: the newest start time of an incarnation that was forgotten. */
  private readonly floors = new Map<string, number>();
  /** The newest start time of any forgotten floor: applies to every sender once its own floor is gone. */
  private globalFloor = -1;

  constructor(private readonly limits: ReplayLimits = DEFAULT_REPLAY_LIMITS) {}

  /** Incarnations tracked now. */
  get size(): number {
    return this.windows.size;
  }

  /**
   * Records counter `n` of the incarnation `incarnation` (hex) of `sender`, which started at
   * `startMs` by its own clock. Call only for authenticated envelopes.
   */
  accept(sender: string, incarnation: string, startMs: number, n: number): ReplayVerdict {
    const key = `${sender}\u0000${incarnation}`;
    let entry = this.windows.get(key);
    if (entry === undefined) {
      const floor = Math.max(this.globalFloor, this.floors.get(sender) ?? -1);
      if (startMs <= floor) return 'staleIncarnation';
      entry = { sender, startMs, window: new CounterWindow(this.limits.window) };
      this.evictFor(1);
    } else {
      this.windows.delete(key);
    }
    this.windows.set(key, entry);
    return entry.window.accept(n);
  }

  /** Makes room for `count` new incarnations, remembering what the forgotten ones started at. */
  private evictFor(count: number): void {
    while (this.windows.size + count > this.limits.incarnations) {
      const oldest = this.windows.entries().next().value;
      if (oldest === undefined) return;
      const [key, { sender, startMs }] = oldest;
      this.windows.delete(key);
      const floor = Math.max(startMs, this.floors.get(sender) ?? -1);
      this.floors.delete(sender);
      this.floors.set(sender, floor);
      if (this.floors.size > this.limits.senders) {
        const first = this.floors.entries().next().value;
        if (first !== undefined) {
          this.floors.delete(first[0]);
          this.globalFloor = Math.max(this.globalFloor, first[1]);
        }
      }
    }
  }
}
