/** Transports: the contract, and the in-memory implementation with fault injection. */
export type { DelayFn, MessageFilter } from './inmem-faults.js';
export {
  type DropReason,
  InmemNetwork,
  type InmemNetworkOptions,
  type InmemNetworkStats,
} from './inmem-network.js';
export { InmemTransport } from './inmem-transport.js';
export type {
  ForwardOptions,
  ForwardRequest,
  ForwardResponse,
  Transport,
  TransportHandler,
  WireError,
} from './types.js';
