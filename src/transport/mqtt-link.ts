import type { NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { OutboundEnvelope } from './mqtt-codec.js';
import type { MqttLogger } from './mqtt-options.js';
import type { MqttTransportStats } from './mqtt-stats.js';
import type { Topics } from './mqtt-topics.js';
import type { WireError } from './types.js';

/** What the MQTT transport's RPC helpers (forwarding, snapshot transfers) need from it. */
export interface MqttLink {
  readonly localId: NodeId;
  readonly cluster: string;
  readonly topics: Topics;
  /** True while connected and subscribed. */
  ready(): boolean;
  /** Encodes and publishes; rejects when the envelope cannot be encoded or the client fails the publish. */
  publish(topic: string, envelope: OutboundEnvelope, qos: 0 | 1): Promise<void>;
  /** A fresh id, unique across transport instances (instance token plus counter). */
  nextId(): string;
  readonly logger: MqttLogger | undefined;
}

/** The counters the RPC helpers update. */
export type RpcStats = Pick<
  MqttTransportStats,
  | 'forwardsSent'
  | 'forwardsServed'
  | 'snapshotsSent'
  | 'snapshotsReceived'
  | 'snapshotFailures'
  | 'snapshotChunksSent'
  | 'snapshotChunksReceived'
  | 'handlerErrors'
>;

/** An error in its wire form, for a response envelope. */
export function toWire(err: unknown, fallback: Omit<WireError, 'message' | 'leader'>): WireError {
  if (err instanceof RaftError) {
    return {
      code: err.code,
      message: err.message,
      retryable: err.retryable,
      indefinite: err.indefinite,
      leader: err.leader,
    };
  }
  return { ...fallback, message: describe(err), leader: null };
}

/** Rebuilds a RaftError from its wire form, with `context` in front of the message. */
export function fromWire(error: WireError, context: string): RaftError {
  return new RaftError(error.code, `${context}: ${error.message}`, {
    retryable: error.retryable,
    indefinite: error.indefinite,
    leader: error.leader,
  });
}

/** A message for any thrown value. */
export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
