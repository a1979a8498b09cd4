import type { SimNetwork, SimRandom } from './network.js';

/** Per-tick probabilities of the node and partition faults of one run. */
export interface FaultRates {
  /** A server process dies (it restarts after a random pause). */
  crash: number;
  /** A server dies part way through handling a Ready. */
  crashPoint: number;
  /** A partition starts (when none is active). */
  partition: number;
}

/** The shapes of partition the injector creates (the Jepsen nemesis catalogue). */
export type PartitionKind = 'isolateOne' | 'majorityMinority' | 'majoritiesRing' | 'oneWay' | 'bridge';

const KINDS: readonly PartitionKind[] = [
  'isolateOne',
  'majorityMinority',
  'majoritiesRing',
  'oneWay',
  'bridge',
];

/** What the injector needs of a network: cutting links and healing them. */
export type Partitionable = Pick<SimNetwork, 'separate' | 'cutLink' | 'healAll' | 'hasCuts'>;

/** Starts and heals partitions at random; counts what it did. */
export class FaultInjector {
  readonly counts: Record<string, number> = Object.fromEntries(KINDS.map((k) => [k, 0]));
  private healAt = 0;

  constructor(
    private readonly random: SimRandom,
    private readonly ids: readonly string[],
    private readonly network: Partitionable,
    readonly rates: FaultRates,
  ) {}

  /** Heals a partition that has lasted long enough, or starts a new one; returns what it did. */
  maybePartition(now: number): Record<string, unknown> | null {
    if (this.network.hasCuts()) {
      if (now < this.healAt) return null;
      this.network.healAll();
      return { healed: true };
    }
    if (this.random.float() >= this.rates.partition) return null;
    const kind = KINDS[this.random.int(KINDS.length)] as PartitionKind;
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.healAt = now + 10 + this.random.int(200);
    return { kind, until: this.healAt, ...this.apply(kind) };
  }

  private apply(kind: PartitionKind): Record<string, unknown> {
    const shuffled = this.shuffle(this.ids);
    const n = shuffled.length;
    switch (kind) {
      case 'isolateOne': {
        const [one = '', ...rest] = shuffled;
        this.network.separate([one], rest);
        return { isolated: one };
      }
      case 'majorityMinority': {
        const minority = shuffled.slice(0, Math.floor((n - 1) / 2) || 1);
        const majority = shuffled.slice(minority.length);
        this.network.separate(minority, majority);
        return { minority, majority };
      }
      case 'majoritiesRing': {
        // Every server sees itself and its k nearest ring neighbours on each side: a majority,
        // but no two servers see the same majority. Three servers degenerate to one cut link.
        const k = Math.ceil(Math.floor(n / 2) / 2);
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) {
            const d = Math.min(Math.abs(i - j), n - Math.abs(i - j));
            if (d > k) this.network.cutLink(shuffled[i] as string, shuffled[j] as string);
          }
        }
        if (n === 3) this.network.separate([shuffled[0] as string], [shuffled[2] as string]);
        return { ring: shuffled, k };
      }
      case 'oneWay': {
        const [from = '', to = ''] = shuffled;
        this.network.cutLink(from, to);
        return { from, to };
      }
      case 'bridge': {
        // Two halves that only one server (the bridge) connects.
        const [bridge = '', ...rest] = shuffled;
        const half = Math.ceil(rest.length / 2);
        this.network.separate(rest.slice(0, half), rest.slice(half));
        return { bridge, left: rest.slice(0, half), right: rest.slice(half) };
      }
    }
  }

  private shuffle(ids: readonly string[]): string[] {
    const out = [...ids];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      [out[i], out[j]] = [out[j] as string, out[i] as string];
    }
    return out;
  }
}
