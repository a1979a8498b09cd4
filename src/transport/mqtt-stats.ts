/** Counters of an {@link MqttTransport}, for monitoring and tests. */
export interface MqttTransportStats {
  /** Raft messages published by `send`. */
  sent: number;
  /** Multicasts queued for the multicast topic (each one publish, or part of one batch). */
  multicastsSent: number;
  /** Multicasts received and not read: our own, and those for other followers. */
  multicastsSkipped: number;
  /** Raft messages handed to the handler. */
  received: number;
  /** Payloads refused on receipt and messages not sent; `droppedReasons` breaks this down. */
  dropped: number;
  /** Drops by reason; see docs/protocol.md, "Validation and drops". */
  readonly droppedReasons: Record<string, number>;
  /** Successful reconnections after the first connection. */
  reconnects: number;
  /** Hellos heard from another live instance with this member id (a misconfiguration). */
  duplicateMember: number;
  /** Envelopes from another group under this cluster name (two groups share it: a misconfiguration). */
  foreignGroup: number;
  /** Handler calls that threw (`onMessage`, `onForward`), which the contract forbids. */
  handlerErrors: number;
  /** Forwarded requests sent. */
  forwardsSent: number;
  /** Forwarded requests answered for other members. */
  forwardsServed: number;
  /** Outgoing snapshot transfers the receiver confirmed. */
  snapshotsSent: number;
  /** Incoming snapshot transfers the node took. */
  snapshotsReceived: number;
  /** Snapshot transfers that failed, either way. */
  snapshotFailures: number;
  /** Snapshot chunks published. */
  snapshotChunksSent: number;
  /** Snapshot chunks received in sequence. */
  snapshotChunksReceived: number;
}

/** Fresh counters. */
export function newStats(): MqttTransportStats {
  return {
    sent: 0,
    multicastsSent: 0,
    multicastsSkipped: 0,
    received: 0,
    dropped: 0,
    droppedReasons: {},
    reconnects: 0,
    duplicateMember: 0,
    foreignGroup: 0,
    handlerErrors: 0,
    forwardsSent: 0,
    forwardsServed: 0,
    snapshotsSent: 0,
    snapshotsReceived: 0,
    snapshotFailures: 0,
    snapshotChunksSent: 0,
    snapshotChunksReceived: 0,
  };
}

/** Counts a drop under `reason`. */
export function countDrop(stats: MqttTransportStats, reason: string): void {
  stats.dropped++;
  stats.droppedReasons[reason] = (stats.droppedReasons[reason] ?? 0) + 1;
}
