/**
 * The broker's listeners: plain MQTT over TCP, MQTT over TLS, MQTT over WebSocket (plain or TLS).
 * Each hands aedes a duplex stream per connection and tracks its sockets, so closing never waits
 * for a connection that aedes does not know (one that has not sent CONNECT yet).
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { BrokerTls } from './options.js';
import { guarded } from './packet-guard.js';

export type ListenerKind = 'mqtt' | 'mqtts' | 'ws' | 'wss';

/** Receives each accepted connection (after TLS and the WebSocket upgrade, where they apply). */
export type ConnectionHandler = (stream: Duplex, request?: IncomingMessage) => void;

/** An open listener. */
export interface Listener {
  readonly kind: ListenerKind;
  /** The port actually listened on. */
  readonly port: number;
  /** Stops accepting; resolves once the port is free, which needs every connection to have ended. */
  stopAccepting(): Promise<void>;
  /** Destroys every connection still open (ones aedes does not know, such as those without CONNECT). */
  destroyConnections(): void;
}

export interface ListenerSpec {
  kind: ListenerKind;
  host: string;
  port: number;
  tls: BrokerTls | undefined;
  maxPacketSize: number;
  handle: ConnectionHandler;
}

/**
 * Disables Nagle's algorithm on an accepted connection. MQTT packets are small and the peer
 * delays its ACKs, so with Nagle a QoS 1 round trip through aedes costs about 44 ms instead of
 * about 0.4 ms, which would dominate Raft's heartbeat and commit latency.
 * Exported so tests can check it without measuring latency.
 */
export function configureSocket(socket: Pick<Socket, 'setNoDelay'>): void {
  socket.setNoDelay(true);
}

/** Opens one listener; rejects with the listen error (such as EADDRINUSE). */
export async function openListener(spec: ListenerSpec): Promise<Listener> {
  const { kind, maxPacketSize } = spec;
  const deliver: ConnectionHandler = (stream, request) =>
    spec.handle(guarded(stream, maxPacketSize), request);
  const sockets = new Set<Socket>();
  let server: Server;
  let webSockets: WebSocketServer | null = null;
  if (kind === 'mqtt') {
    server = createTcpServer((socket) => deliver(socket));
  } else if (kind === 'mqtts') {
    server = createTlsServer(tlsOptions(spec.tls), (socket) => deliver(socket));
  } else {
    const http = kind === 'ws' ? createHttpServer() : createHttpsServer(tlsOptions(spec.tls));
    // ws checks each frame's announced length before reading it, which bounds WebSocket frames as
    // the guard bounds MQTT packets.
    const wss = new WebSocketServer({ server: http, maxPayload: maxPacketSize });
    wss.on('connection', (socket, request) => deliver(createWebSocketStream(socket), request));
    // A failed upgrade is reported on the WebSocket server; the connection is closed by ws.
    wss.on('error', () => undefined);
    webSockets = wss;
    server = http;
  }
  // 'connection' is the raw TCP socket for every kind of server, before TLS or HTTP.
  server.on('connection', (socket: Socket) => {
    configureSocket(socket);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // TLS handshake failures (a plain client on the TLS port) are per connection; the socket closes.
  server.on('tlsClientError', () => undefined);
  await listen(server, spec.host, spec.port);
  // An accept failure (such as EMFILE) is emitted on the server after listening; without a
  // listener it would crash the host process, while the server itself keeps listening and
  // clients retry. So it is ignored deliberately.
  server.on('error', () => undefined);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : spec.port;
  return {
    kind,
    port,
    stopAccepting() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      webSockets?.close();
      return closed;
    },
    destroyConnections() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function tlsOptions(tls: BrokerTls | undefined): TlsOptions {
  if (tls === undefined) throw new Error('a TLS listener needs tls options');
  const pem = (v: string | Uint8Array): string | Buffer => (typeof v === 'string' ? v : Buffer.from(v));
  const options: TlsOptions = { key: pem(tls.key), cert: pem(tls.cert) };
  if (tls.ca !== undefined) options.ca = Array.isArray(tls.ca) ? tls.ca.map(pem) : pem(tls.ca);
  if (tls.requireClientCert === true) {
    options.requestCert = true;
    options.rejectUnauthorized = true;
  }
  return options;
}

/** Listens, settling on the first of 'listening' and 'error', so a failure rejects instead of throwing later. */
function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}
