/**
 * mqtt-raft/broker: an embedded MQTT 3.1.1 broker (aedes) for running a cluster without an external
 * broker, for demos, tests and small deployments. Any MQTT 3.1.1 broker works with the transport;
 * this one only spares users from installing one. docs/security.md describes its hardening options.
 */
import { Aedes, type AedesOptions } from 'aedes';
import { RaftError } from '../src/errors.js';
import { accessHooks } from './access.js';
import { type Listener, type ListenerKind, openListener } from './listeners.js';
import { type BrokerOptions, type ValidOptions, validateOptions } from './options.js';

export { configureSocket } from './listeners.js';
export type { BrokerOptions, BrokerTls, Credentials, GroupAcl, Pem } from './options.js';

/** A broker started by {@link startBroker}. */
export interface RunningBroker {
  /** The address clients connect to, such as `mqtt://127.0.0.1:54321`. */
  readonly url: string;
  /** The address of each listener: `mqtt` always, the others when their port option was set. */
  readonly urls: Readonly<{ mqtt: string; mqtts?: string; ws?: string; wss?: string }>;
  /** The plain MQTT listener's port (the OS's choice when 0 was requested). */
  readonly port: number;
  /** The interface listened on, as requested. */
  readonly host: string;
  /** How many MQTT clients are connected, counting only those whose CONNECT was accepted. */
  clients(): number;
  /**
   * Stops listening, disconnects every client (including sockets that never sent CONNECT) and
   * closes aedes. Resolves once the port is free again. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Starts an MQTT 3.1.1 broker (aedes, in-memory persistence) listening on `host:port`, and on the
 * TLS and WebSocket ports when they are set.
 *
 * Rejects with `INVALID_CONFIG` naming the field when an option is invalid, and with `UNREACHABLE`
 * (with the listen error as `cause`, retryable when the port is in use) when it cannot listen.
 * Subscriptions, sessions and queued messages live in memory and vanish on {@link RunningBroker.close}.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const valid = validateOptions(options);
  const aedesOptions: AedesOptions = { ...accessHooks(valid) };
  const aedes = await Aedes.createBroker(aedesOptions);
  options.instrument?.(aedes);

  const listeners: Listener[] = [];
  for (const [kind, port] of ports(valid)) {
    try {
      listeners.push(
        await openListener({
          kind,
          host: valid.host,
          port,
          tls: valid.tls,
          maxPacketSize: valid.maxPacketSize,
          handle: (stream, request) => aedes.handle(stream, request),
        }),
      );
    } catch (err) {
      // aedes runs a heartbeat interval from createBroker on; without closing it the process would never exit.
      await shutdown(listeners, aedes);
      const code = (err as NodeJS.ErrnoException).code;
      const message = `broker cannot listen on ${kind}://${formatHostPort(valid.host, port)}: ${String(err)}`;
      throw new RaftError('UNREACHABLE', message, { cause: err, retryable: code === 'EADDRINUSE' });
    }
  }

  const urls: Record<string, string> = {};
  for (const listener of listeners)
    urls[listener.kind] = `${listener.kind}://${formatHostPort(valid.host, listener.port)}`;
  const plain = listeners[0] as Listener;
  let closing: Promise<void> | null = null;
  return {
    url: urls.mqtt as string,
    urls: urls as RunningBroker['urls'],
    port: plain.port,
    host: valid.host,
    clients: () => aedes.connectedClients,
    close() {
      closing ??= shutdown(listeners, aedes);
      return closing;
    },
  };
}

/** The listeners to open, plain MQTT first. */
function ports(options: ValidOptions): [ListenerKind, number][] {
  const list: [ListenerKind, number][] = [['mqtt', options.port]];
  if (options.tlsPort !== undefined) list.push(['mqtts', options.tlsPort]);
  if (options.wsPort !== undefined) list.push(['ws', options.wsPort]);
  if (options.wssPort !== undefined) list.push(['wss', options.wssPort]);
  return list;
}

/**
 * Stops accepting first, so no client connects while the others are being disconnected; then
 * lets aedes close its clients; then destroys what is left (connections that never sent CONNECT),
 * because a server's close resolves only when every connection has ended.
 */
async function shutdown(listeners: Listener[], aedes: Aedes): Promise<void> {
  const stopped = listeners.map((listener) => listener.stopAccepting());
  await new Promise<void>((resolve) => aedes.close(() => resolve()));
  for (const listener of listeners) listener.destroyConnections();
  await Promise.all(stopped);
}

/** `host:port`, with an IPv6 literal in brackets as URLs require. */
function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
