/** Options of the embedded broker, and their validation. */
import type { Aedes } from 'aedes';
import { RaftError } from '../src/errors.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../src/transport/mqtt-options.js';
import { nameProblem, rootProblem } from '../src/transport/mqtt-topics.js';

/** PEM text or its bytes, as `node:tls` takes them. */
export type Pem = string | Uint8Array;

/** The one username and password a broker with {@link BrokerOptions.auth} accepts. */
export interface Credentials {
  username: string;
  password: string;
}

/** The certificate of the `mqtts`/`wss` listeners. */
export interface BrokerTls {
  /** The broker's private key, PEM. */
  key: Pem;
  /** The broker's certificate (chain), PEM. */
  cert: Pem;
  /** CAs that verify client certificates, PEM. Needed for {@link requireClientCert}. */
  ca?: Pem | Pem[];
  /** Refuse TLS clients without a certificate signed by `ca`. Default false. */
  requireClientCert?: boolean;
}

/**
 * The ACL template of one group: the usernames in `members` are its member ids (a member connects
 * with its id as username), and each may only subscribe to its own inbox, its own reply inbox and
 * the group's broadcast and multicast topics, and only publish to inboxes and reply inboxes of the
 * group and its broadcast and multicast topics. See docs/security.md.
 */
export interface GroupAcl {
  /** The topic root the group uses. Default `'mqtt-raft'`. */
  root?: string;
  /** The group's cluster name. */
  cluster: string;
  /** Usernames (= member ids) of the group's members. */
  members: string[];
}

/** Options of {@link startBroker}. Every field is optional. */
export interface BrokerOptions {
  /** Interface to listen on. Default `'127.0.0.1'`, so a broker is not exposed by accident. */
  host?: string;
  /** Port of the plain MQTT listener. Default 1883; 0 lets the OS choose (see {@link RunningBroker.port}). */
  port?: number;
  /**
   * When set, a client must connect with exactly this username and password; any other
   * connection is refused with CONNACK return code 4 ("bad username or password"). When neither
   * this nor {@link users} is set, every client is accepted, which is only safe on a trusted network.
   */
  auth?: Credentials;
  /**
   * Per-client credentials: username to password. Exclusive with {@link auth}. With {@link acl},
   * a member's username is its member id.
   */
  users?: Record<string, string>;
  /**
   * ACL templates built from the topic layout, one per group (needs {@link users}). When set, every
   * publish and subscription not allowed by a template is refused: default deny.
   */
  acl?: GroupAcl[];
  /**
   * Allow subscriptions whose first level is a wildcard (`#`, `+/…`) or that start with `$`
   * (`$SYS/#`). Default false: such a filter would show every group's traffic, or client ids.
   */
  allowRootWildcards?: boolean;
  /**
   * Allow retained publishes. Default false: a retained message is replayed to every later
   * subscriber, so a forged one would outlive its sender. The transport never retains.
   */
  allowRetain?: boolean;
  /**
   * Largest packet, in bytes on the wire (fixed header included), that a client may send. Checked
   * from the fixed header, before the body is read: a client announcing a larger packet is
   * disconnected at once, so it cannot make the broker buffer it. Default
   * {@link DEFAULT_MAX_PACKET_SIZE} (8 MiB + 4 KiB), room for the largest message a member sends
   * with the transport's default `maxMessageBytes`; raise it with the members' `maxMessageBytes`.
   * At most MQTT's own limit (256 MiB).
   */
  maxPacketSize?: number;
  /** Certificate for the TLS listeners; needed by {@link tlsPort} and {@link wssPort}. */
  tls?: BrokerTls;
  /** Port of an MQTT-over-TLS (`mqtts://`) listener on {@link host}; 0 for any. Default: none. */
  tlsPort?: number;
  /** Port of an MQTT-over-WebSocket (`ws://`) listener on {@link host}; 0 for any. Default: none. */
  wsPort?: number;
  /** Port of an MQTT-over-secure-WebSocket (`wss://`) listener on {@link host}; 0 for any. Default: none. */
  wssPort?: number;
  /**
   * For tests: called with the aedes instance once it is created, before the broker listens, to
   * install hooks (such as `authorizeForward`) or listen to aedes events. Unset by default, which
   * leaves the broker exactly as described above.
   */
  instrument?: (aedes: Aedes) => void;
}

/** The options with defaults applied, after validation. */
export interface ValidOptions {
  host: string;
  port: number;
  auth: Credentials | undefined;
  users: Map<string, string> | undefined;
  acl: Required<GroupAcl>[] | undefined;
  allowRootWildcards: boolean;
  allowRetain: boolean;
  maxPacketSize: number;
  tls: BrokerTls | undefined;
  tlsPort: number | undefined;
  wsPort: number | undefined;
  wssPort: number | undefined;
}

/** MQTT's largest packet: a 1-byte type, a 4-byte remaining length and 268,435,455 bytes after them. */
export const MQTT_MAX_PACKET_SIZE = 1 + 4 + 268_435_455;

/**
 * Room in a PUBLISH for what surrounds a member's payload: the fixed header (at most 5 bytes), the
 * topic's length (2) and the topic (at most 2,317 bytes: a root, a cluster name and a member id of
 * at most 256 characters each, 3 UTF-8 bytes per character, and `/node/…/reply`), the packet id (2).
 */
const PUBLISH_HEADER_ROOM = 4 * 1024;

/**
 * Default {@link BrokerOptions.maxPacketSize}: the transport's default `maxMessageBytes` plus the
 * header room. No member with default options sends a larger packet, so anything larger is not
 * the group's traffic; refusing it from its fixed header keeps a client from making the broker
 * buffer up to 256 MiB (docs/security.md, "Packet size").
 */
export const DEFAULT_MAX_PACKET_SIZE = DEFAULT_MAX_MESSAGE_BYTES + PUBLISH_HEADER_ROOM;

/** Checks every option, so a mistake surfaces at start with the field's name, not as a confusing listen error. */
export function validateOptions(options: BrokerOptions): ValidOptions {
  if (typeof options !== 'object' || options === null) invalid('options', 'must be an object');
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) invalid('host', 'must be a non-empty string');
  const port = checkPort('port', options.port ?? 1883);
  const auth = options.auth;
  if (auth !== undefined) {
    if (typeof auth !== 'object' || auth === null)
      invalid('auth', 'must be an object with username and password');
    checkCredential('auth.username', auth.username);
    checkCredential('auth.password', auth.password);
  }
  const users = checkUsers(options.users);
  if (auth !== undefined && users !== undefined) invalid('users', 'give auth or users, not both');
  const acl = checkAcl(options.acl);
  if (acl !== undefined && users === undefined)
    invalid('acl', 'needs users: the ACL tells members apart by username');
  const maxPacketSize = options.maxPacketSize ?? DEFAULT_MAX_PACKET_SIZE;
  if (!Number.isInteger(maxPacketSize) || maxPacketSize < 1 || maxPacketSize > MQTT_MAX_PACKET_SIZE)
    invalid('maxPacketSize', `must be an integer from 1 to ${MQTT_MAX_PACKET_SIZE}`);
  const tls = checkTls(options.tls);
  const tlsPort = optionalPort('tlsPort', options.tlsPort);
  const wsPort = optionalPort('wsPort', options.wsPort);
  const wssPort = optionalPort('wssPort', options.wssPort);
  if (tls === undefined && (tlsPort !== undefined || wssPort !== undefined))
    invalid('tls', 'is needed for tlsPort and wssPort (the key and certificate)');
  return {
    host,
    port,
    auth: auth === undefined ? undefined : { ...auth },
    users,
    acl,
    allowRootWildcards: options.allowRootWildcards === true,
    allowRetain: options.allowRetain === true,
    maxPacketSize,
    tls,
    tlsPort,
    wsPort,
    wssPort,
  };
}

export function invalid(field: string, rule: string): never {
  throw new RaftError('INVALID_CONFIG', `${field}: ${rule}`);
}

function checkPort(field: string, port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    invalid(field, 'must be an integer from 0 to 65535');
  return port;
}

function optionalPort(field: string, port: unknown): number | undefined {
  return port === undefined ? undefined : checkPort(field, port);
}

function checkCredential(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) invalid(field, 'must be a non-empty string');
}

function checkUsers(users: unknown): Map<string, string> | undefined {
  if (users === undefined) return undefined;
  if (typeof users !== 'object' || users === null || Array.isArray(users))
    invalid('users', 'must be an object of username to password');
  const table = new Map<string, string>();
  for (const [username, password] of Object.entries(users)) {
    if (username.length === 0) invalid('users', 'a username must not be empty');
    checkCredential(`users.${username}`, password);
    table.set(username, password as string);
  }
  if (table.size === 0) invalid('users', 'must hold at least one user');
  return table;
}

function checkAcl(acl: unknown): Required<GroupAcl>[] | undefined {
  if (acl === undefined) return undefined;
  if (!Array.isArray(acl)) invalid('acl', 'must be an array of { root?, cluster, members }');
  return acl.map((group: GroupAcl, i) => {
    const at = `acl[${i}]`;
    if (typeof group !== 'object' || group === null) invalid(at, 'must be an object');
    const root = group.root ?? 'mqtt-raft';
    const rootIssue = typeof root === 'string' ? rootProblem(root) : 'must be a string';
    if (rootIssue !== null) invalid(`${at}.root`, rootIssue);
    const clusterIssue = typeof group.cluster === 'string' ? nameProblem(group.cluster) : 'must be a string';
    if (clusterIssue !== null) invalid(`${at}.cluster`, clusterIssue);
    if (!Array.isArray(group.members)) invalid(`${at}.members`, 'must be an array of member ids');
    for (const member of group.members) {
      const problem = typeof member === 'string' ? nameProblem(member) : 'must be a string';
      if (problem !== null) invalid(`${at}.members`, `'${String(member)}' ${problem}`);
    }
    return { root, cluster: group.cluster, members: [...group.members] };
  });
}

function checkTls(tls: BrokerTls | undefined): BrokerTls | undefined {
  if (tls === undefined) return undefined;
  if (typeof tls !== 'object' || tls === null) invalid('tls', 'must be an object with key and cert');
  const isPem = (v: unknown) => typeof v === 'string' || v instanceof Uint8Array;
  if (!isPem(tls.key)) invalid('tls.key', 'must be PEM text or bytes');
  if (!isPem(tls.cert)) invalid('tls.cert', 'must be PEM text or bytes');
  if (tls.ca !== undefined && !(isPem(tls.ca) || (Array.isArray(tls.ca) && tls.ca.every(isPem))))
    invalid('tls.ca', 'must be PEM text or bytes, or an array of them');
  if (tls.requireClientCert === true && tls.ca === undefined)
    invalid('tls.ca', 'is needed to verify client certificates (requireClientCert)');
  return { ...tls };
}
