import type { Message } from '../../src/core/index.js';
import { isMulticast, type Multicast, type Outgoing, planSends } from '../../src/core/multicast.js';

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

/** One copy of a publish on its way to one server: a message, or a multicast every member receives. */
export interface Delivery {
  readonly to: string;
  readonly out: Outgoing;
}

interface InFlight extends Delivery {
  readonly at: number;
  readonly seq: number;
}

/**
 * A seeded network: every delivery gets a random delay (which reorders them), may be dropped or
 * duplicated, and is lost when its link is cut at send time or at delivery time.
 *
 * A multicast models the MQTT group topic: one publish that every member's subscription receives,
 * the sender's included (MQTT 3.1.1 has no no-local option). Each member's copy travels on its own
 * link from the sender, so it is dropped, duplicated, delayed and cut independently of the others.
 */
export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  /** Cut links, as "from>to". */
  private readonly cut = new Set<string>();
  faults: NetworkFaults;
  /**
   * `sent` counts publishes (a multicast is one); `multicasts` the publishes that were multicasts
   * and `multicastRecipients` the point-to-point messages they stood for. Drops, duplicates and
   * blocks count deliveries, one per member for a multicast.
   */
  readonly stats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    blocked: 0,
    multicasts: 0,
    multicastRecipients: 0,
  };

  constructor(
    private readonly random: SimRandom,
    faults: NetworkFaults,
    /** Every server that subscribes to the group topic. */
    private readonly members: readonly string[],
  ) {
    this.faults = faults;
  }

  /**
   * Sends a batch of one server's messages (a Ready's, or those that waited for a write) as the
   * transport does: appends and heartbeats identical but for their addressee go out as one
   * multicast when at least two followers get them.
   */
  sendAll(messages: readonly Message[], now: number): void {
    for (const out of planSends(messages, 2)) this.send(out, now);
  }

  send(out: Outgoing, now: number): void {
    this.stats.sent++;
    if (!isMulticast(out)) {
      this.transmit({ to: out.to, out }, now);
      return;
    }
    this.stats.multicasts++;
    this.stats.multicastRecipients += out.recipients.length;
    for (const to of this.members) this.transmit({ to, out }, now);
  }

  /** Removes and returns the deliveries due at `now`, in delivery order, skipping cut links. */
  due(now: number): Delivery[] {
    if (this.queue.length === 0) return [];
    const ready: InFlight[] = [];
    const later: InFlight[] = [];
    for (const item of this.queue) (item.at <= now ? ready : later).push(item);
    this.queue = later;
    ready.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const out: Delivery[] = [];
    for (const item of ready) {
      if (this.isCut(senderOf(item.out), item.to)) {
        this.stats.blocked++;
        continue;
      }
      this.stats.delivered++;
      out.push({ to: item.to, out: item.out });
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

  /** Forgets what is on its way to `id` (its process is gone, and its subscriptions with it). */
  dropTo(id: string): void {
    this.queue = this.queue.filter((item) => item.to !== id);
  }

  private isCut(from: string, to: string): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  /** Sends one copy over the link from its sender to `delivery.to`. */
  private transmit(delivery: Delivery, now: number): void {
    if (this.isCut(senderOf(delivery.out), delivery.to)) {
      this.stats.blocked++;
      return;
    }
    if (this.random.float() < this.faults.dropRate) {
      this.stats.dropped++;
      return;
    }
    this.enqueue(delivery, now);
    if (this.random.float() < this.faults.duplicateRate) {
      this.stats.duplicated++;
      this.enqueue(delivery, now);
    }
  }

  private enqueue(delivery: Delivery, now: number): void {
    const delay = 1 + this.random.int(this.faults.maxDelay);
    this.queue.push({ ...delivery, at: now + delay, seq: this.seq++ });
  }
}

function senderOf(out: Message | Multicast): string {
  return isMulticast(out) ? out.message.from : out.from;
}
