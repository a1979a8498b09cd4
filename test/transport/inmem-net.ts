import { InmemNetwork, type InmemNetworkOptions, type InmemTransport } from '../../src/transport/index.js';
import { RecordingHandler } from '../support/recording-handler.js';

/** An in-memory network whose nodes are started with recording handlers. */
export interface StartedNetwork {
  readonly network: InmemNetwork;
  transport(id: string): InmemTransport;
  handler(id: string): RecordingHandler;
}

/** Creates a network with transports for `ids` (not others: add those through `network`), each started with a {@link RecordingHandler}. */
export async function startNetwork(
  ids: readonly string[],
  options: InmemNetworkOptions = {},
): Promise<StartedNetwork> {
  const network = new InmemNetwork(options);
  const handlers = new Map<string, RecordingHandler>();
  // Kept, because once closed the network would hand out a fresh transport for the same id.
  const transports = new Map<string, InmemTransport>();
  for (const id of ids) {
    const handler = new RecordingHandler();
    const transport = network.transport(id);
    await transport.start(handler);
    handlers.set(id, handler);
    transports.set(id, transport);
  }
  return {
    network,
    transport(id) {
      const t = transports.get(id);
      if (t === undefined) throw new Error(`no transport for ${id}`);
      return t;
    },
    handler(id) {
      const h = handlers.get(id);
      if (h === undefined) throw new Error(`no handler for ${id}`);
      return h;
    },
  };
}

/** Lets every queued microtask run, which is when undelayed in-memory deliveries happen. */
export async function flushMicrotasks(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
