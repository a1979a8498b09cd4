import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type BrokerOptions, type RunningBroker, startBroker } from '../../broker/index.js';
import { Mosquitto } from './mosquitto.js';

/** The brokers the MQTT integration tests run on. */
export type BrokerKind = 'aedes' | 'mosquitto';
export const BROKER_KINDS: readonly BrokerKind[] = ['aedes', 'mosquitto'];

/** A broker that can be stopped and started again at the same address. */
export interface RestartableBroker {
  readonly kind: BrokerKind;
  readonly url: string;
  /** Stops the broker: every client loses its connection. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with no sessions. */
  startAgain(): Promise<void>;
  close(): Promise<void>;
}

/** A broker on 127.0.0.1, on a port of its own. */
export interface TestBroker extends RestartableBroker {
  readonly port: number;
  /** The embedded broker while it runs (aedes only): for tests of broker internals. */
  readonly aedes: RunningBroker | null;
}

/** Starts the embedded aedes broker, or a mosquitto process, on a free port of 127.0.0.1. */
/**
 * Starts a broker of `kind`. `aedesOptions` loosens the embedded broker's defaults, for tests
 * that play a permissive shared broker (for example one that keeps retained messages).
 */
export async function startTestBroker(
  kind: BrokerKind,
  aedesOptions: Pick<BrokerOptions, 'allowRetain'> = {},
): Promise<TestBroker> {
  if (kind === 'mosquitto') {
    const m = await Mosquitto.start();
    return {
      kind,
      url: m.url,
      port: m.port,
      aedes: null,
      stop: () => m.stop(),
      startAgain: () => m.startAgain(),
      close: () => m.close(),
    };
  }
  return AedesBroker.start(aedesOptions);
}

class AedesBroker implements TestBroker {
  readonly kind = 'aedes' as const;
  readonly url: string;
  readonly port: number;

  private constructor(
    private running: RunningBroker | null,
    private readonly options: Pick<BrokerOptions, 'allowRetain'> = {},
  ) {
    if (running === null) throw new Error('no broker');
    this.url = running.url;
    this.port = running.port;
  }

  static async start(options: Pick<BrokerOptions, 'allowRetain'> = {}): Promise<AedesBroker> {
    return new AedesBroker(await startBroker({ host: '127.0.0.1', port: 0, ...options }), options);
  }

  get aedes(): RunningBroker | null {
    return this.running;
  }

  async stop(): Promise<void> {
    await this.running?.close();
    this.running = null;
  }

  async startAgain(): Promise<void> {
    this.running = await startBroker({ host: '127.0.0.1', port: this.port, ...this.options });
  }

  close(): Promise<void> {
    return this.stop();
  }
}

/**
 * Runs a broker of `kind` for the test file (or describe block) that calls this at its top level:
 * started before its first test, closed after its last.
 */
export function useBroker(kind: BrokerKind = 'aedes'): { readonly url: string; readonly port: number } {
  let broker: TestBroker | null = null;
  beforeAll(async () => {
    broker = await startTestBroker(kind);
  });
  afterAll(async () => {
    await broker?.close();
  });
  const running = (): TestBroker => {
    if (broker === null) throw new Error('the test broker is not running');
    return broker;
  };
  return {
    get url(): string {
      return running().url;
    },
    get port(): number {
      return running().port;
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
