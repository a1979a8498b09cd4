import { seededRandom } from '../core/random.js';
import type { Message, NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';

/** A delivery delay in milliseconds, fixed or chosen per message. */
export type DelayFn = (message: Message) => number;

/** A predicate on messages: return false to drop the message. */
export type MessageFilter = (message: Message) => boolean;

/** Why the network refused a message when it was sent (see {@link LinkFaults.judge}). */
export type FaultVerdict = 'cut' | 'filtered' | 'random';

/**
 * The faults a test has injected into an in-memory network: cut links, isolated nodes, filters,
 * a random drop rate and a delivery delay. It only answers questions; the network acts on them.
 */
export class LinkFaults {
  /** Cut links: `from` maps to the set of nodes it cannot reach. */
  private readonly cuts = new Map<NodeId, Set<NodeId>>();
  /** Isolated nodes; kept apart from `cuts` so isolation also covers nodes that register later. */
  private readonly isolated = new Set<NodeId>();
  /** Wrapped in objects so that adding the same function twice yields two independent removers. */
  private readonly filters = new Set<{ readonly accept: MessageFilter }>();
  private readonly random: { float(): number };
  private dropRate = 0;
  private delay: DelayFn = () => 0;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** Cuts the link `from` → `to` (one direction only). */
  cut(from: NodeId, to: NodeId): void {
    let targets = this.cuts.get(from);
    if (targets === undefined) {
      targets = new Set();
      this.cuts.set(from, targets);
    }
    targets.add(to);
  }

  /** Cuts every link to and from `id`. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Restores every cut link and isolated node. Filters, drop rate and delay stay as they are. */
  heal(): void {
    this.cuts.clear();
    this.isolated.clear();
  }

  /** True when a message from `from` can reach `to` as far as cuts and isolation go. */
  connected(from: NodeId, to: NodeId): boolean {
    if (this.isolated.has(from) || this.isolated.has(to)) return false;
    return this.cuts.get(from)?.has(to) !== true;
  }

  /** Adds a filter; the returned function removes it (calling it again does nothing). */
  addFilter(accept: MessageFilter): () => void {
    const entry = { accept };
    this.filters.add(entry);
    return () => {
      this.filters.delete(entry);
    };
  }

  /** Sets the probability, in [0, 1], that a message passing cuts and filters is lost anyway. */
  setDropRate(rate: number): void {
    if (!(rate >= 0 && rate <= 1))
      throw new RaftError('INVALID_INPUT', `drop rate must be in [0, 1], got ${rate}`);
    this.dropRate = rate;
  }

  /** Sets the delivery delay: a fixed number of milliseconds (0 = next microtask) or one per message. */
  setDelay(delay: number | DelayFn): void {
    if (typeof delay === 'function') {
      this.delay = delay;
      return;
    }
    if (!(delay >= 0 && Number.isFinite(delay))) {
      throw new RaftError('INVALID_INPUT', `delay must be a finite number >= 0, got ${delay}`);
    }
    this.delay = () => delay;
  }

  /**
   * Decides, at send time, whether `message` sent by `from` is lost, and why. Checks run in a fixed
   * order (cuts, filters, drop rate) and the generator is drawn only for messages that passed the
   * others, so a given seed drops the same messages whatever else a test changes around them.
   * A filter that throws counts as one that rejected the message: sending must never throw.
   */
  judge(from: NodeId, message: Message): FaultVerdict | null {
    if (!this.connected(from, message.to)) return 'cut';
    for (const { accept } of this.filters) {
      if (!safely(() => accept(message), false)) return 'filtered';
    }
    // Rates 0 and 1 need no draw; skipping it keeps the sequence aligned with the messages at stake.
    if (this.dropRate > 0 && (this.dropRate >= 1 || this.random.float() < this.dropRate)) return 'random';
    return null;
  }

  /** The delay for `message` in milliseconds; a delay function's invalid answers count as 0. */
  delayOf(message: Message): number {
    const ms = safely(() => this.delay(message), 0);
    return ms > 0 && Number.isFinite(ms) ? ms : 0;
  }
}

/** Runs test-supplied code that must not break the network: a throw yields `fallback`. */
function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
