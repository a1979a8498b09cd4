import { InmemNetwork } from '../../src/transport/index.js';
import type { Transport } from '../../src/transport/types.js';
import { transportConformance } from './transport.suite.js';

transportConformance('InmemTransport', async (ids) => {
  const network = new InmemNetwork({ seed: 1 });
  const transports = new Map<string, Transport>(ids.map((id) => [id, network.transport(id)]));
  return {
    transports,
    async close() {
      await Promise.all([...transports.values()].map((t) => t.close()));
    },
  };
});
