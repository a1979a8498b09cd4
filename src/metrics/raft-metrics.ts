import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Role } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { RaftEvents } from '../node/events.js';
import type { RaftStats } from '../node/stats.js';
import type { MqttTransportStats } from '../transport/mqtt-stats.js';

/** What a {@link RaftMetrics} reads: a Raft node (a `Raft`) and, when it runs on one, its MQTT transport. */
export interface MetricsSource {
  readonly raft: {
    stats(): RaftStats;
    on<K extends keyof RaftEvents & string>(event: K, listener: (payload: RaftEvents[K]) => void): unknown;
    off<K extends keyof RaftEvents & string>(event: K, listener: (payload: RaftEvents[K]) => void): unknown;
  };
  /** An `MqttTransport`, or anything with its counters and connection state. */
  readonly transport?: { readonly stats: MqttTransportStats; readonly connected: boolean };
}

/** Options of {@link RaftMetrics}. */
export interface RaftMetricsOptions {
  /** The prom-client registry to register in; default a new one (see {@link RaftMetrics.registry}). */
  readonly registry?: Registry;
  /** Prefix of every metric name. Default `mqtt_raft_`. */
  readonly prefix?: string;
}

const ROLES: readonly Role[] = ['follower', 'preCandidate', 'candidate', 'leader'];

/** Seconds: from a millisecond to ten seconds, a proposal's commit latency. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: snapshots take from milliseconds (a small state) to minutes (gigabytes). */
const SNAPSHOT_SECONDS_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300];
/** Bytes: 1 KiB to 1 GiB, by fours. */
const SNAPSHOT_BYTES_BUCKETS = Array.from({ length: 11 }, (_, k) => 1024 * 4 ** k);

/**
 * Prometheus metrics of one Raft node: positions and counters read from `stats()` at every
 * scrape, and counters and histograms fed by the node's events (leader changes, proposals and
 * their commit latency, snapshots). Every metric is listed in docs/operations.md. Register it in
 * your own prom-client registry (`registry` option) to serve it beside your application's.
 */
export class RaftMetrics {
  readonly registry: Registry;
  private source: MetricsSource | null = null;
  private readonly prefix: string;
  private readonly leaderChanges: Counter;
  private readonly proposals: Counter<'outcome'>;
  private readonly commitSeconds: Histogram;
  private readonly snapshotSeconds: Histogram<'kind'>;
  private readonly snapshotBytes: Histogram<'kind'>;
  private readonly snapshotFailures: Counter;

  constructor(options: RaftMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    this.prefix = options.prefix ?? 'mqtt_raft_';
    this.defineNodeGauges();
    this.defineTransportMetrics();
    const registers = [this.registry];
    const name = (n: string) => this.prefix + n;
    this.leaderChanges = new Counter({
      name: name('leader_changes_total'),
      help: 'Times this node learned of a new leader (itself included).',
      registers,
    });
    this.proposals = new Counter({
      name: name('proposals_total'),
      help: 'Proposals (apply calls) made on this node, by outcome: applied, or the error code.',
      labelNames: ['outcome'],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: name('proposal_commit_seconds'),
      help: 'Time from a proposal on this node to its apply on the leader, for applied proposals.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.snapshotSeconds = new Histogram({
      name: name('snapshot_duration_seconds'),
      help: 'Time to take a snapshot (capture and write) or to install one from the leader (restore).',
      labelNames: ['kind'],
      buckets: SNAPSHOT_SECONDS_BUCKETS,
      registers,
    });
    this.snapshotBytes = new Histogram({
      name: name('snapshot_size_bytes'),
      help: 'Size of the data of snapshots taken or installed.',
      labelNames: ['kind'],
      buckets: SNAPSHOT_BYTES_BUCKETS,
      registers,
    });
    this.snapshotFailures = new Counter({
      name: name('snapshot_failures_total'),
      help: 'Snapshots this node started that failed.',
      registers,
    });
  }

  /**
   * Starts reporting `source`; returns a function that stops it. One source at a time: a node's
   * metrics describe one node.
   */
  observe(source: MetricsSource): () => void {
    if (this.source !== null)
      throw new RaftError('INVALID_INPUT', 'RaftMetrics.observe: already observing a node');
    this.source = source;
    const listeners = this.listeners();
    const { raft } = source;
    const subscribe = (method: 'on' | 'off') => {
      raft[method]('leaderChange', listeners.leaderChange);
      raft[method]('proposalSettled', listeners.proposalSettled);
      raft[method]('snapshotTaken', listeners.snapshotTaken);
      raft[method]('snapshotInstalled', listeners.snapshotInstalled);
      raft[method]('snapshotFailed', listeners.snapshotFailed);
    };
    subscribe('on');
    return () => {
      if (this.source !== source) return;
      subscribe('off');
      this.source = null;
    };
  }

  /** The metrics in the Prometheus text format, and its content type, for an HTTP answer. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  private listeners() {
    const snapshot =
      (kind: 'taken' | 'installed') =>
      ({ bytes, durationMs }: { bytes: number; durationMs: number }) => {
        this.snapshotSeconds.observe({ kind }, durationMs / 1000);
        this.snapshotBytes.observe({ kind }, bytes);
      };
    return {
      leaderChange: ({ leader }: RaftEvents['leaderChange']) => {
        if (leader !== null) this.leaderChanges.inc();
      },
      proposalSettled: ({ outcome, durationMs }: RaftEvents['proposalSettled']) => {
        this.proposals.inc({ outcome });
        if (outcome === 'applied') this.commitSeconds.observe(durationMs / 1000);
      },
      snapshotTaken: snapshot('taken'),
      snapshotInstalled: snapshot('installed'),
      snapshotFailed: () => this.snapshotFailures.inc(),
    };
  }

  /** Gauges and counters read from the node's `stats()` at every scrape. */
  private defineNodeGauges(): void {
    const stats = (): RaftStats | undefined => this.source?.raft.stats();
    const stat = (name: string, help: string, read: (s: RaftStats) => number) =>
      this.scraped(
        { type: 'gauge', name, help },
        fromSource(stats, (s) => [[{}, read(s)]]),
      );
    stat('term', 'The current Raft term.', (s) => s.term);
    stat('commit_index', 'The highest log index known to be committed.', (s) => s.commitIndex);
    stat('applied_index', 'The highest log index applied to the state machine here.', (s) => s.appliedIndex);
    stat('last_log_index', 'The index of the last entry in the log.', (s) => s.lastLogIndex);
    stat('last_snapshot_index', 'The index of the newest snapshot.', (s) => s.lastSnapshotIndex);
    stat('voters', 'Voters in the configuration in force.', (s) => s.voters);
    stat('pending_proposals', 'Proposals waiting for their outcome.', (s) => s.pendingProposals);
    stat('leader_known', '1 when this node knows a leader, else 0.', (s) => (s.leader === null ? 0 : 1));
    this.scraped(
      {
        type: 'gauge',
        name: 'role',
        help: 'The Raft role: 1 for the one this node has, 0 for the others.',
        label: 'role',
      },
      fromSource(stats, (s) => ROLES.map((role) => [{ role }, s.state === role ? 1 : 0] as const)),
    );
    this.scraped(
      {
        type: 'counter',
        name: 'dropped_messages_total',
        help: 'Peer messages the node dropped for breaking a rule or a bound, by reason (docs/protocol.md).',
        label: 'reason',
      },
      fromSource(stats, (s) => byLabel('reason', s.droppedMessages)),
    );
  }

  /** The MQTT transport's counters and connection state, read at every scrape. */
  private defineTransportMetrics(): void {
    const transport = () => this.source?.transport;
    this.scraped(
      {
        type: 'gauge',
        name: 'broker_connected',
        help: '1 while connected to the broker with every subscription in place, else 0.',
      },
      fromSource(transport, (t) => [[{}, t.connected ? 1 : 0]]),
    );
    const count = (
      spec: { name: string; help: string; label?: string },
      read: (s: MqttTransportStats) => Samples,
    ) =>
      this.scraped(
        { type: 'counter', ...spec },
        fromSource(transport, (t) => read(t.stats)),
      );
    count(
      { name: 'broker_reconnects_total', help: 'Reconnections to the broker after the first connection.' },
      (s) => [[{}, s.reconnects]],
    );
    count(
      {
        name: 'transport_messages_total',
        help: 'Raft messages published (sent) and handed to the node (received).',
        label: 'direction',
      },
      (s) => byLabel('direction', { sent: s.sent, received: s.received }),
    );
    count(
      {
        name: 'transport_dropped_total',
        help: 'Payloads the transport dropped, by reason (docs/protocol.md).',
        label: 'reason',
      },
      (s) => byLabel('reason', s.droppedReasons),
    );
    count(
      {
        name: 'forwarded_requests_total',
        help: 'Requests forwarded to the leader (sent) and served for other members (served).',
        label: 'direction',
      },
      (s) => byLabel('direction', { sent: s.forwardsSent, served: s.forwardsServed }),
    );
  }

  /**
   * A gauge or counter whose samples `read` returns at each scrape. A counter read this way
   * reports a total kept elsewhere; it starts again from 0 only when its node does.
   */
  private scraped(
    spec: { type: 'gauge' | 'counter'; name: string; help: string; label?: string },
    read: () => Samples,
  ): void {
    const config = {
      name: this.prefix + spec.name,
      help: spec.help,
      labelNames: spec.label === undefined ? [] : [spec.label],
      registers: [this.registry],
    };
    if (spec.type === 'gauge') {
      const gauge: Gauge = new Gauge({
        ...config,
        collect: () => {
          gauge.reset();
          for (const [labels, value] of read()) gauge.set(labels, value);
        },
      });
      return;
    }
    const counter: Counter = new Counter({
      ...config,
      collect: () => {
        counter.reset();
        for (const [labels, value] of read()) counter.inc(labels, value);
      },
    });
  }
}

/** Samples of one metric: label values and a value each. */
type Samples = ReadonlyArray<readonly [Record<string, string>, number]>;

/** Samples from what `get` returns, none while it returns undefined (no node observed). */
function fromSource<T>(get: () => T | undefined, samples: (source: T) => Samples): () => Samples {
  return () => {
    const source = get();
    return source === undefined ? [] : samples(source);
  };
}

/** One sample per key of `totals`, the key as the value of `label`. */
function byLabel(label: string, totals: Readonly<Record<string, number | undefined>>): Samples {
  return Object.entries(totals).map(([key, value]) => [{ [label]: key }, value ?? 0] as const);
}
