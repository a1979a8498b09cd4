import type { Message } from '../../src/core/index.js';

/** A random source shared by the whole simulation, so one seed replays everything. */
export interface SimRandom {
  float(): number;
  int(bound: number): number;
}

/** Per-seed hostility of the network. */
export interface NetworkFaults {
  /** Probability that a message is lost. */
  dropRate: number;
  /** Probability that a message is delivered twice. */
  duplicateRate: number;
  /** Each delivery takes 1..maxDelay ticks, so messages overtake each other (reordering). */
  maxDelay: number;
}

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly message: Message;
}

/**
 * A seeded network: every message gets a random delay (which reorders them), may be dropped or
 * duplicated, and is lost when its link is cut at send time or at delivery time.
 */
export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  /** Cut links, as "from>to". */
  private readonly cut = new Set<string>();
  faults: NetworkFaults;
  readonly stats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, blocked: 0 };

  constructor(
    private readonly random: SimRandom,
    faults: NetworkFaults,
  ) {
    this.faults = faults;
  }

  send(message: Message, now: number): void {
    this.stats.sent++;
    if (this.isCut(message.from, message.to)) {
      this.stats.blocked++;
      return;
    }
    if (this.random.float() < this.faults.dropRate) {
      this.stats.dropped++;
      return;
    }
    this.enqueue(message, now);
    if (this.random.float() < this.faults.duplicateRate) {
      this.stats.duplicated++;
      this.enqueue(message, now);
    }
  }

  /** Removes and returns the messages due at `now`, in delivery order, skipping cut links. */
  due(now: number): Message[] {
    if (this.queue.length === 0) return [];
    const ready: InFlight[] = [];
    const later: InFlight[] = [];
    for (const item of this.queue) (item.at <= now ? ready : later).push(item);
    this.queue = later;
    ready.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const out: Message[] = [];
    for (const { message } of ready) {
      if (this.isCut(message.from, message.to)) {
        this.stats.blocked++;
        continue;
      }
      this.stats.delivered++;
      out.push(message);
    }
    return out;
  }

  /** Cuts the link from `from` to `to` (one way). */
  cutLink(from: string, to: string): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Cuts both directions between every member of `a` and every member of `b`. */
  separate(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
  }

  healAll(): void {
    this.cut.clear();
  }

  hasCuts(): boolean {
    return this.cut.size > 0;
  }

  /** Forgets messages addressed to `id` (its process is gone). */
  dropTo(id: string): void {
    this.queue = this.queue.filter((item) => item.message.to !== id);
  }

  private isCut(from: string, to: string): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  private enqueue(message: Message, now: number): void {
    const delay = 1 + this.random.int(this.faults.maxDelay);
    this.queue.push({ at: now + delay, seq: this.seq++, message });
  }
}
