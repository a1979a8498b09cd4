import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { RaftError } from '../errors.js';
import type { MqttConfig } from './mqtt-options.js';
import type { Topics } from './mqtt-topics.js';

/** What a {@link MqttConnection} tells its owner. */
export interface ConnectionEvents {
  /**
   * A publish arrived on one of the subscribed topics; `retained` when the broker delivered it
   * from its retained store (MQTT 3.1.1 §3.3.1.3) rather than as it was published.
   */
  onPayload(topic: string, payload: Uint8Array, retained: boolean): void;
  /** Connected and subscribed; `reconnected` is false the first time. */
  onReady(reconnected: boolean): void;
  /** A connection that was ready dropped; mqtt.js is reconnecting. */
  onLost(): void;
}

/**
 * One mqtt.js client: MQTT 3.1.1, clean session, automatic reconnection. It subscribes to the
 * node's inbox, reply inbox and the broadcast topic after every CONNACK itself, instead of
 * relying on mqtt.js's `resubscribe`, so that "ready" means the SUBACK is in: a clean session
 * (which a broker restart also implies) starts with no subscriptions.
 */
export class MqttConnection {
  private client: MqttClient | null = null;
  private isReady = false;
  private everReady = false;
  /** Bumped on every CONNACK, so a SUBACK from an older connection is recognised. */
  private generation = 0;
  /** Settles the promise of a running {@link open}. */
  private settleOpen: ((error: RaftError | null) => void) | null = null;

  constructor(
    private readonly config: MqttConfig,
    private readonly topics: Topics,
    private readonly clientId: string,
    private readonly events: ConnectionEvents,
  ) {}

  /** True while connected with every subscription in place. */
  get ready(): boolean {
    return this.isReady;
  }

  /**
   * Connects and subscribes. Rejects with `UNREACHABLE` when that does not happen within
   * `connectTimeoutMs` (or the broker refuses the connection or a subscription); the client is
   * then ended, so nothing keeps running.
   */
  async open(): Promise<void> {
    const { config } = this;
    const options: IClientOptions = {
      clientId: this.clientId,
      ...config.clientOptions,
      protocolVersion: 4,
      clean: true,
      resubscribe: false,
      // A Raft message that cannot go out now is stale by the time the link is back: drop it.
      queueQoSZero: false,
      reconnectPeriod: config.reconnectPeriodMs,
      connectTimeout: config.connectTimeoutMs,
    };
    if (config.username !== undefined) options.username = config.username;
    if (config.password !== undefined) options.password = config.password;
    const client = connect(config.url, options);
    this.client = client;
    const opened = new Promise<void>((resolve, reject) => {
      this.settleOpen = (error) => {
        this.settleOpen = null;
        if (error === null) resolve();
        else reject(error);
      };
    });
    const fail = (why: string, cause?: unknown) =>
      this.settleOpen?.(
        new RaftError('UNREACHABLE', `MQTT broker ${config.url}: ${why}`, { retryable: true, cause }),
      );
    const timer = setTimeout(
      () => fail(`not connected within ${config.connectTimeoutMs} ms`),
      config.connectTimeoutMs,
    );

    client.on('connect', () => {
      // mqtt.js leaves Nagle's algorithm on, and mqtt-packet writes a PUBLISH in several pieces:
      // with Nagle each QoS 1 round trip stalls on a delayed ACK (~40 ms), which would dominate
      // forwarding and snapshot latency. Every connection has a new stream.
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      const generation = ++this.generation;
      this.subscribe(client, generation).then(
        () => {
          if (generation !== this.generation || this.client !== client) return;
          const reconnected = this.everReady;
          this.isReady = true;
          this.everReady = true;
          this.settleOpen?.(null);
          this.events.onReady(reconnected);
        },
        (err: unknown) => {
          config.logger?.('error', 'MQTT subscription failed', { error: String(err) });
          fail('subscription refused', err);
        },
      );
    });
    client.on('close', () => {
      this.generation++;
      if (!this.isReady) return;
      this.isReady = false;
      config.logger?.('warn', 'MQTT connection lost; reconnecting', { url: config.url });
      this.events.onLost();
    });
    client.on('reconnect', () => config.logger?.('debug', 'MQTT reconnecting', { url: config.url }));
    // Without an 'error' listener, EventEmitter would throw it into the process.
    client.on('error', (err) => {
      config.logger?.('warn', 'MQTT client error', { error: err.message });
      // A CONNACK refusal (bad credentials, not authorised) will not go away by retrying.
      const code = (err as { code?: unknown }).code;
      if (typeof code === 'number' && code > 0) fail(err.message, err);
    });
    client.on('message', (topic, payload, packet) =>
      this.events.onPayload(topic, payload, packet.retain === true),
    );

    try {
      await opened;
    } catch (err) {
      if (this.client === client) this.client = null;
      client.end(true);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private subscribe(client: MqttClient, generation: number): Promise<void> {
    const { inbox, reply, broadcast } = this.topics;
    return new Promise((resolve, reject) => {
      client.subscribe(
        { [inbox]: { qos: 1 }, [reply]: { qos: 1 }, [broadcast]: { qos: 1 } },
        (err, granted) => {
          if (generation !== this.generation) {
            resolve();
            return;
          }
          if (err) reject(err);
          else if ((granted ?? []).some((g) => g.qos === 128))
            reject(new Error('the broker refused a subscription'));
          else resolve();
        },
      );
    });
  }

  /** Bytes written to the connection but still in its send buffer (not yet taken by the OS). */
  get bufferedBytes(): number {
    const stream = this.client?.stream as { writableLength?: number } | undefined;
    return stream?.writableLength ?? 0;
  }

  /**
   * Publishes `payload`. Resolves once mqtt.js has written it (QoS 0) or the broker acknowledged
   * it (QoS 1); rejects when the client fails it (not connected for QoS 0, connection closed, …).
   */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1): Promise<void> {
    const client = this.client;
    if (client === null) return Promise.reject(new Error('not connected'));
    const buffer = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise((resolve, reject) => {
      client.publish(topic, buffer, { qos }, (err) => {
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Ends the client: waits up to `graceMs` for queued publishes, then drops the connection. */
  async close(graceMs: number): Promise<void> {
    const client = this.client;
    this.client = null;
    this.isReady = false;
    this.generation++;
    this.settleOpen?.(new RaftError('SHUTDOWN', 'the transport was closed while connecting'));
    if (client === null) return;
    await new Promise<void>((resolve) => {
      if (!client.connected) {
        client.end(true, () => resolve());
        return;
      }
      // end(false) waits for unacknowledged publishes; a second end() would be a no-op, so the
      // grace period ends by destroying the socket directly.
      const force = setTimeout(() => {
        client.stream?.destroy();
        resolve();
      }, graceMs);
      client.end(false, () => {
        clearTimeout(force);
        resolve();
      });
    });
    client.removeAllListeners();
    // Late events after close (a socket error while closing) must still have a listener.
    client.on('error', () => undefined);
  }
}
