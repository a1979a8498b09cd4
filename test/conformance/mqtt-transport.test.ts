import { afterAll, beforeAll } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { MqttTransport } from '../../src/transport/index.js';
import type { Transport } from '../../src/transport/types.js';
import { transportConformance } from './transport.suite.js';

let broker: RunningBroker | null = null;
let clusters = 0;

beforeAll(async () => {
  broker = await startBroker({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await broker?.close();
});

transportConformance('MqttTransport', async (ids) => {
  if (broker === null) throw new Error('the broker is not running');
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
