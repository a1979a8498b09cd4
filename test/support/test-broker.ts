import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';

/**
 * Runs an embedded broker on 127.0.0.1 (port chosen by the OS) for the test file that calls this
 * at its top level: started before its first test, closed after its last.
 */
export function useBroker(): { readonly url: string } {
  let broker: RunningBroker | null = null;
  beforeAll(async () => {
    broker = await startBroker({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await broker?.close();
  });
  return {
    get url(): string {
      if (broker === null) throw new Error('the test broker is not running');
      return broker.url;
    },
  };
}

/** A list whose members are closed after each test of the file that calls this at its top level. */
export function closedAfterEach<T extends { close(): Promise<unknown> }>(): T[] {
  const open: T[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });
  return open;
}

/**
 * Connects an MQTT 3.1.1 client without reconnecting, so a refusal or a disconnect stays visible,
 * and adds it to `clients` for the test to end. Resolves on CONNACK 0; rejects with mqtt.js's error
 * (its `code` is the CONNACK return code).
 */
export function connectMqtt(
  clients: MqttClient[],
  url: string,
  options: IClientOptions,
  connectTimeout: number,
): Promise<MqttClient> {
  const client = connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout, ...options });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
}
