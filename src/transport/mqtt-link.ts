import type { NodeId } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { OutboundEnvelope } from './mqtt-codec.js';
import type { MqttTransportStats } from './mqtt-stats.js';
import type { Topics } from './mqtt-topics.js';

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
  readonly logger: Logger;
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

export { describe, fromWire, toWire } from './wire-error.js';
