/**
 * mqtt-raft/broker: an embedded MQTT 3.1.1 broker (aedes) for running a cluster without an external
 * broker, for demos, tests and small deployments. Any MQTT 3.1.1 broker works with the transport;
 * this one only spares users from installing one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions, type AuthenticateError, type PublishPacket } from 'aedes';
import { RaftError } from '../src/errors.js';

/** The one username and password a broker with {@link BrokerOptions.auth} accepts. */
export interface Credentials {
  username: string;
  password: string;
}

/** Options of {@link startBroker}. Every field is optional. */
export interface BrokerOptions {
  /** Interface to listen on. Default `'127.0.0.1'`, so a broker is not exposed by accident. */
  host?: string;
  /** TCP port. Default 1883; 0 lets the OS choose a free port (read it from {@link RunningBroker.port}). */
  port?: number;
  /**
   * When set, a client must connect with exactly this username and password; any other
   * connection is refused with CONNACK return code 4 ("bad username or password"). When unset,
   * every client is accepted, which is only safe on a trusted network.
   */
  auth?: Credentials;
  /**
   * Largest PUBLISH packet, in bytes as encoded on the wire (fixed header included), that the
   * broker forwards. A client that publishes a larger one is disconnected, as MQTT 3.1.1 requires
   * for a refused publish (MQTT-3.3.5-2). Default: no limit beyond MQTT's own (256 MiB). The packet
   * is read in full before the check, so this limits what the broker forwards to subscribers, not
   * the memory a single connection may use while a packet arrives.
   */
  maxPacketSize?: number;
  /**
   * For tests: called with the aedes instance once it is created, before the broker listens, to
   * install hooks (such as `authorizeForward`) or listen to aedes events. Unset by default, which
   * leaves the broker exactly as described above.
   */
  instrument?: (aedes: Aedes) => void;
}

/** A broker started by {@link startBroker}. */
export interface RunningBroker {
  /** The address clients connect to, such as `mqtt://127.0.0.1:54321`. */
  readonly url: string;
  /** The port actually listened on (the OS's choice when 0 was requested). */
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

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 1883;
/** MQTT's largest packet: a 1-byte type, a 4-byte remaining length and 268,435,455 bytes after them. */
const MQTT_MAX_PACKET_SIZE = 1 + 4 + 268_435_455;
/** Publishing to `$SYS/` is reserved to the broker; aedes's default authorizePublish enforces it too. */
const SYS_PREFIX = '$SYS/';
/** CONNACK return code 4 in MQTT 3.1.1 (§3.2.2.3). aedes types it as an ambient const enum, which `isolatedModules` forbids reading. */
const BAD_USERNAME_OR_PASSWORD = 4;

/**
 * Prepares an accepted connection for MQTT traffic. It disables Nagle's algorithm: MQTT packets are
 * small and the peer delays its ACKs, so with Nagle a QoS 1 round trip through aedes costs about
 * 44 ms instead of about 0.4 ms, which would dominate Raft's heartbeat and commit latency.
 * Exported so tests can check it without measuring latency.
 */
export function configureSocket(socket: Pick<Socket, 'setNoDelay'>): void {
  socket.setNoDelay(true);
}

/**
 * Starts an MQTT 3.1.1 broker (aedes, in-memory persistence) listening on `host:port`.
 *
 * Rejects with `INVALID_CONFIG` naming the field when an option is invalid, and with `UNREACHABLE`
 * (with the listen error as `cause`, retryable when the port is in use) when it cannot listen.
 * Subscriptions, sessions and queued messages live in memory and vanish on {@link RunningBroker.close}.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const { host, port, auth, maxPacketSize } = validateOptions(options);

  const aedesOptions: AedesOptions = { authorizePublish: publishAuthorizer(maxPacketSize) };
  if (auth !== undefined) aedesOptions.authenticate = credentialChecker(auth);
  const aedes = await Aedes.createBroker(aedesOptions);
  options.instrument?.(aedes);

  // Tracked so close() can end connections that aedes does not know yet (no CONNECT received):
  // otherwise server.close() would wait for them until aedes's 30 s connect timeout.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    configureSocket(socket);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });

  try {
    await listen(server, host, port);
  } catch (err) {
    // aedes runs a heartbeat interval from createBroker on; without closing it the process would never exit.
    await closeAedes(aedes);
    const code = (err as NodeJS.ErrnoException).code;
    const message = `broker cannot listen on ${formatHostPort(host, port)}: ${String(err)}`;
    throw new RaftError('UNREACHABLE', message, { cause: err, retryable: code === 'EADDRINUSE' });
  }
  // An accept failure (such as EMFILE) is emitted on the server after listening; without a
  // listener it would crash the host process, while the server itself keeps listening and
  // clients retry. So it is ignored deliberately.
  server.on('error', () => {});

  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | null = null;

  return {
    url: `mqtt://${formatHostPort(host, boundPort)}`,
    port: boundPort,
    host,
    clients: () => aedes.connectedClients,
    close() {
      closing ??= shutdown(server, aedes, sockets);
      return closing;
    },
  };
}

/** The options with defaults applied, after validation. */
interface ValidOptions {
  host: string;
  port: number;
  auth: Credentials | undefined;
  maxPacketSize: number | undefined;
}

/** Checks every option, so a mistake surfaces at start with the field's name, not as a confusing listen error. */
function validateOptions(options: BrokerOptions): ValidOptions {
  if (typeof options !== 'object' || options === null) invalid('options', 'must be an object');
  const host = options.host ?? DEFAULT_HOST;
  if (typeof host !== 'string' || host.length === 0) invalid('host', 'must be a non-empty string');
  const port = options.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    invalid('port', 'must be an integer from 0 to 65535');
  const auth = options.auth;
  if (auth !== undefined) {
    if (typeof auth !== 'object' || auth === null)
      invalid('auth', 'must be an object with username and password');
    if (typeof auth.username !== 'string' || auth.username.length === 0)
      invalid('auth.username', 'must be a non-empty string');
    if (typeof auth.password !== 'string' || auth.password.length === 0)
      invalid('auth.password', 'must be a non-empty string');
  }
  const maxPacketSize = options.maxPacketSize;
  if (
    maxPacketSize !== undefined &&
    (!Number.isInteger(maxPacketSize) || maxPacketSize < 1 || maxPacketSize > MQTT_MAX_PACKET_SIZE)
  )
    invalid('maxPacketSize', `must be an integer from 1 to ${MQTT_MAX_PACKET_SIZE}`);
  return { host, port, auth: auth === undefined ? undefined : { ...auth }, maxPacketSize };
}

function invalid(field: string, rule: string): never {
  throw new RaftError('INVALID_CONFIG', `${field}: ${rule}`);
}

/**
 * An aedes `authenticate` hook that accepts exactly `auth`. Both fields are compared as SHA-256
 * digests with `timingSafeEqual`, and always both, so the response time reveals neither the
 * length nor which field was wrong.
 */
function credentialChecker(auth: Credentials): NonNullable<AedesOptions['authenticate']> {
  const expectedUser = digest(Buffer.from(auth.username, 'utf8'));
  const expectedPassword = digest(Buffer.from(auth.password, 'utf8'));
  return (_client, username, password, done) => {
    const userOk = timingSafeEqual(digest(Buffer.from(username ?? '', 'utf8')), expectedUser);
    const passwordOk = timingSafeEqual(digest(password ?? Buffer.alloc(0)), expectedPassword);
    // Missing credentials hash like empty ones, which never match because empty ones are rejected at start.
    if (userOk && passwordOk && username !== undefined && password !== undefined) {
      done(null, true);
      return;
    }
    const error = new Error('bad username or password') as AuthenticateError;
    error.returnCode = BAD_USERNAME_OR_PASSWORD;
    done(error, false);
  };
}

function digest(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * An aedes `authorizePublish` hook: keeps aedes's default refusal of `$SYS/` topics (replacing the
 * hook drops it) and refuses packets over `maxPacketSize`. A refusal makes aedes close the
 * publisher's connection.
 */
function publishAuthorizer(maxPacketSize: number | undefined): NonNullable<AedesOptions['authorizePublish']> {
  return (_client, packet, done) => {
    if (packet.topic.startsWith(SYS_PREFIX)) {
      done(new Error(`${SYS_PREFIX} topics are reserved`));
      return;
    }
    if (maxPacketSize !== undefined) {
      const size = publishPacketSize(packet);
      if (size > maxPacketSize) {
        done(new Error(`PUBLISH of ${size} bytes exceeds maxPacketSize ${maxPacketSize}`));
        return;
      }
    }
    done(null);
  };
}

/** The encoded size of an MQTT 3.1.1 PUBLISH (§3.3): fixed header, topic, packet id when QoS > 0, payload. */
function publishPacketSize(packet: PublishPacket): number {
  const payload = packet.payload;
  const payloadBytes = typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.length;
  const remaining = 2 + Buffer.byteLength(packet.topic, 'utf8') + (packet.qos > 0 ? 2 : 0) + payloadBytes;
  // The remaining length is a varint of 7 bits per byte.
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4;
  return 1 + lengthBytes + remaining;
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

/**
 * Stops accepting first, so no client connects while the others are being disconnected; then
 * lets aedes close its clients; then destroys what is left (connections that never sent CONNECT),
 * because server.close() resolves only when every connection has ended.
 */
async function shutdown(server: Server, aedes: Aedes, sockets: Set<Socket>): Promise<void> {
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  await closeAedes(aedes);
  for (const socket of sockets) socket.destroy();
  await serverClosed;
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}

/** `host:port`, with an IPv6 literal in brackets as URLs require. */
function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
