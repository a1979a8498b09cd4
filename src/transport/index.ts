/** Transports: the contract, the in-memory implementation with fault injection, and MQTT. */

export {
  GROUP_KEY_BYTES,
  GROUP_KEY_ENV,
  type GroupKeyInput,
  groupKeysFromEnv,
  parseGroupKey,
  readGroupKeyFile,
} from './group-key.js';
export type { DelayFn, MessageFilter } from './inmem-faults.js';
export {
  type DropReason,
  InmemNetwork,
  type InmemNetworkOptions,
  type InmemNetworkStats,
} from './inmem-network.js';
export { InmemTransport } from './inmem-transport.js';
export type { MqttTlsOptions, MqttTransportOptions, Pem } from './mqtt-options.js';
export type { MqttTransportStats } from './mqtt-stats.js';
export { MqttTransport } from './mqtt-transport.js';
export type {
  ForwardOptions,
  ForwardRequest,
  ForwardResponse,
  Transport,
  TransportHandler,
  WireError,
} from './types.js';
