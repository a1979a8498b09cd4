import type { Message, NodeId, SnapshotRequest } from '../core/types.js';

/** What a transport hands to the node it serves. */
export interface TransportHandler {
  /** A message for this node. Must not throw; the node validates and may drop it. */
  onMessage(message: Message): void;
  /**
   * A snapshot for this node, with its data. The node stores the data and then steps the request
   * into its core; the promise resolves once that is done, so the sender learns of failures.
   */
  onSnapshot(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<void>;
}

/**
 * Carries messages between nodes. Raft tolerates loss, duplication and reordering, so `send` is
 * fire-and-forget; only snapshots, which are large, report their outcome.
 *
 * Implementations: `InmemTransport` (tests, examples; fault injection) and `MqttTransport`.
 */
export interface Transport {
  /** This node's address (its id). */
  readonly localId: NodeId;
  /** Begins delivering inbound traffic to `handler`. */
  start(handler: TransportHandler): Promise<void>;
  /** Sends a message; never throws, never waits. Messages to unknown or unreachable nodes are dropped. */
  send(message: Message): void;
  /**
   * Sends a snapshot request with its data, streamed from `chunks`. Resolves once the receiver has
   * stored it and stepped the request; rejects (with a `RaftError`) when that cannot be confirmed.
   */
  sendSnapshot(
    request: SnapshotRequest,
    chunks: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Stops sending and receiving. */
  close(): Promise<void>;
}
