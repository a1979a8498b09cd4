import type { MulticastMessage } from '../core/multicast.js';
import type { Message, NodeId, SnapshotRequest } from '../core/types.js';
import type { RaftErrorCode } from '../errors.js';

/** Who sent a forwarded request: a member, one process of it, and a count within that process. */
interface ForwardIds {
  readonly origin: NodeId;
  /** Random per process (design §7): a restarted member counts `seq` from 1 again. */
  readonly incarnation: string;
  readonly seq: number;
}

/**
 * A client operation a non-leader forwards to the leader. (origin, incarnation, seq) identifies
 * it, so a leader that receives the same request twice (a re-sent attempt, or a duplicate
 * delivery) proposes it once.
 */
export type ForwardRequest =
  | (ForwardIds & { readonly kind: 'apply'; readonly data: Uint8Array })
  | (ForwardIds & { readonly kind: 'barrier' })
  | (ForwardIds & {
      readonly kind: 'addVoter' | 'addNonvoter' | 'demoteVoter' | 'removeServer';
      readonly id: NodeId;
      readonly prevIndex?: number;
    });

/** An error as it travels in a {@link ForwardResponse}: data, never a serialized Error object. */
export interface WireError {
  readonly code: RaftErrorCode;
  readonly message: string;
  readonly retryable: boolean;
  readonly indefinite: boolean;
  readonly leader: NodeId | null;
}

/**
 * The leader's answer to a {@link ForwardRequest}: the index the operation was applied at (and,
 * for `apply`, the FSM's response, which must be msgpack-serializable), or an error.
 */
export type ForwardResponse =
  | { readonly ok: true; readonly index: number; readonly response?: unknown }
  | { readonly ok: false; readonly error: WireError };

/** What a transport hands to the node it serves. */
export interface TransportHandler {
  /** A message for this node. Must not throw; the node validates and may drop it. */
  onMessage(message: Message): void;
  /**
   * A snapshot for this node, with its data. The node stores the data and then steps the request
   * into its core; the promise resolves once that is done, so the sender learns of failures.
   */
  onSnapshot(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * A forwarded client operation. A leader performs it; any other server answers `NOT_LEADER`
   * with its leader hint, so the sender can go straight there. Must not throw.
   */
  onForward(request: ForwardRequest, from: NodeId): Promise<ForwardResponse>;
}

/** Limits of one {@link Transport.forward} call. */
export interface ForwardOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
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
   * Optional: sends `message` to each of `recipients` as one transmission that every member
   * receives (each recipient reads it as addressed to itself, the others ignore it), or to each
   * alone when that is cheaper. Never throws, never waits. Without it, the node sends to each.
   */
  multicast?(recipients: readonly NodeId[], message: MulticastMessage): void;
  /**
   * Sends a snapshot request with its data, streamed from `chunks`. Resolves once the receiver has
   * stored it and stepped the request; rejects (with a `RaftError`) when that cannot be confirmed.
   */
  sendSnapshot(
    request: SnapshotRequest,
    chunks: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void>;
  /**
   * Forwards a client operation to `to` and resolves with its answer. With `to` null (no leader
   * known) the request is broadcast and only a leader answers it. Rejects with a `RaftError`:
   * `TIMEOUT` (indefinite: the operation may have happened) when no answer arrives in time,
   * `UNREACHABLE` when it could not be sent, `SHUTDOWN` after close.
   */
  forward(to: NodeId | null, request: ForwardRequest, options: ForwardOptions): Promise<ForwardResponse>;
  /** Stops sending and receiving. */
  close(): Promise<void>;
}
