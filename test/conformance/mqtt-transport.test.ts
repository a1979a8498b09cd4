import { describe } from 'vitest';
import { MqttTransport } from '../../src/transport/index.js';
import type { Transport } from '../../src/transport/types.js';
import { BROKER_KINDS, useBroker } from '../support/test-broker.js';
import { transportConformance } from './transport.suite.js';

describe.each(BROKER_KINDS)('on %s', (kind) => {
  const broker = useBroker(kind);
  let clusters = 0;

  transportConformance('MqttTransport', async (ids) => {
    // A cluster name per test, so that nothing from an earlier test can reach this one's transports.
    const cluster = `conformance-${++clusters}`;
    const url = broker.url;
    const transports = new Map<string, Transport>(
      ids.map((id) => [
        id,
        new MqttTransport({
          localId: id,
          url,
          cluster,
          connectTimeoutMs: 5000,
          // The suite's transfers to absent nodes fail on this timeout (nobody answers on MQTT).
          snapshotTimeoutMs: 2000,
          closeGraceMs: 200,
        }),
      ]),
    );
    return {
      transports,
      async close() {
        await Promise.all([...transports.values()].map((t) => t.close()));
      },
    };
  });
});
