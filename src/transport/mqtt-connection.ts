import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { RaftError } from '../errors.js';
import { connectError } from './mqtt-connect-error.js';
import type { MqttConfig, Pem } from './mqtt-options.js';
import type { Topics } from './mqtt-topics.js';
import { RateLimitedLog } from './rate-limited-log.js';

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
 * node's inbox, reply inbox, the broadcast and the multicast topic after every CONNACK itself, instead of
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
  /** mqtt.js reports a failed attempt every reconnect period while the broker is away. */
  private readonly errorLog: RateLimitedLog;

  constructor(
    private readonly config: MqttConfig,
    private readonly topics: Topics,
    private readonly clientId: string,
    private readonly events: ConnectionEvents,
  ) {
    this.errorLog = new RateLimitedLog(config.logger);
  }

  /** True while connected with every subscription in place. */
  get ready(): boolean {
    return this.isReady;
  }

  /**
   * Connects and subscribes. Rejects with `UNREACHABLE` as soon as the first attempt fails, naming
   * the cause (refused, dns, tls, auth, protocol; see mqtt-connect-error.ts), or when connecting
   * and subscribing take longer than `connectTimeoutMs` (a host that never answers); the client is
   * then ended, so nothing keeps running. Later connection losses are retried by mqtt.js.
   */
  async open(): Promise<void> {
    const { config } = this;
    const client = connect(config.url, this.clientOptions());
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
      () => fail(`not connected within ${config.connectTimeoutMs} ms (no answer from the broker)`),
      config.connectTimeoutMs,
    );
    this.watchFirstAttempt(client);

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
          config.logger.error({ error: String(err) }, 'MQTT subscription failed');
          fail('subscription refused (does the broker ACL allow this member its topics?)', err);
        },
      );
    });
    client.on('close', () => {
      this.generation++;
      if (!this.isReady) return;
      this.isReady = false;
      config.logger.warn({ localId: config.localId, url: config.url }, 'MQTT connection lost; reconnecting');
      this.events.onLost();
    });
    client.on('reconnect', () => config.logger.debug({ url: config.url }, 'MQTT reconnecting'));
    // Without an 'error' listener, EventEmitter would throw it into the process.
    client.on('error', (err) =>
      this.errorLog.log('warn', 'clientError', 'MQTT client error', {
        localId: config.localId,
        error: err.message,
      }),
    );
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

  private clientOptions(): IClientOptions {
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
    const tls = config.tls;
    if (tls !== undefined) {
      // mqtt.js hands these to node:tls for mqtts: and to the WebSocket for wss:.
      if (tls.ca !== undefined) options.ca = toTlsValue(tls.ca);
      if (tls.cert !== undefined) options.cert = toTlsValue(tls.cert);
      if (tls.key !== undefined) options.key = toTlsValue(tls.key);
      if (tls.servername !== undefined) options.servername = tls.servername;
      // node:tls verifies the broker by default; only an explicit false turns that off.
      if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
    }
    return options;
  }

  /**
   * Fails {@link open} with the cause of the first attempt's failure. The first stream's errors
   * are watched directly because mqtt.js drops stream errors that have no `code` (such as a
   * WebSocket upgrade refused by the server), and a close before any CONNACK is a failure of its
   * own: the server hung up on our CONNECT, which is what a listener of another protocol does.
   */
  private watchFirstAttempt(client: MqttClient): void {
    let firstError: unknown;
    let connacked = false;
    const record = (err: unknown): void => {
      firstError ??= err;
      // A CONNACK refusal (bad credentials, not authorised) carries its return code as a number.
      if (typeof (err as { code?: unknown }).code === 'number') settle();
    };
    const settle = (): void => {
      if (!connacked)
        this.settleOpen?.(connectError({ url: this.config.url, error: firstError, closed: true }));
    };
    client.stream?.on('error', record);
    client.on('error', record);
    client.once('connect', () => {
      connacked = true;
    });
    // The socket's close can come before the error that explains it (mqtt.js emits CONNACK errors
    // after tearing the stream down), so the cause is read one turn later.
    client.once('close', () => setImmediate(settle));
  }

  private subscribe(client: MqttClient, generation: number): Promise<void> {
    const { inbox, reply, broadcast, multicast } = this.topics;
    return new Promise((resolve, reject) => {
      client.subscribe(
        { [inbox]: { qos: 1 }, [reply]: { qos: 1 }, [broadcast]: { qos: 1 }, [multicast]: { qos: 1 } },
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

/** PEM as a Buffer, which node:tls takes for every field (a Uint8Array is viewed, not copied). */
function toTlsValue(value: Pem): Buffer;
function toTlsValue(value: Pem | Pem[]): Buffer | Buffer[];
function toTlsValue(value: Pem | Pem[]): Buffer | Buffer[] {
  if (Array.isArray(value)) return value.map((v) => toTlsValue(v));
  return typeof value === 'string'
    ? Buffer.from(value, 'utf8')
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
