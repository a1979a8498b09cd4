import type { IClientOptions } from 'mqtt';
import { z } from 'zod';
import { RaftError } from '../errors.js';
import { isLogger, type Logger, silentLogger } from '../logger.js';
import { type GroupKeyInput, groupKeyProblem, parseGroupKey } from './group-key.js';
import { firstIssue } from './mqtt-fast-checks.js';
import { nameProblem, rootProblem } from './mqtt-topics.js';

/** PEM text (a string) or its bytes, as `node:tls` takes them. */
export type Pem = string | Uint8Array;

/**
 * TLS settings of an `mqtts:`/`ssl:`/`wss:` connection, passed to `node:tls`. Without `ca` the
 * system's trusted roots verify the broker. `cert` and `key` present a client certificate to a
 * broker that asks for one.
 */
export interface MqttTlsOptions {
  /** Certificate authorities that verify the broker's certificate, in PEM. */
  ca?: Pem | Pem[];
  /** This client's certificate (chain), in PEM. Needs `key`. */
  cert?: Pem;
  /** This client's private key, in PEM. Needs `cert`. */
  key?: Pem;
  /** The name checked against the broker's certificate, when it differs from the URL's host. */
  servername?: string;
  /** Refuse a broker whose certificate does not verify. Default true; false only for tests. */
  rejectUnauthorized?: boolean;
}

/** Options of an {@link MqttTransport}. Only `localId` and `url` are required. */
export interface MqttTransportOptions {
  /** This node's member id; also its address. No `/`, `+`, `#` or control characters. */
  localId: string;
  /** The broker, such as `mqtt://127.0.0.1:1883` (also `mqtts:`, `tcp:`, `ssl:`, `ws:`, `wss:`). */
  url: string;
  /** Isolates groups that share a broker; topics live under `<root>/<cluster>/`. Default `'default'`. */
  cluster?: string;
  /** First topic level(s). Default `'mqtt-raft'`. */
  root?: string;
  /**
   * The id of the group this member belongs to, stamped on every envelope; envelopes of another
   * group are dropped (docs/protocol.md §3). Default `''`: no group yet, accept every group.
   */
  group?: string;
  /**
   * The group's shared secret, 32 bytes (or 64 hex digits, or base64): every envelope is sealed
   * with it and every envelope received must be sealed with it (docs/security.md, "Sealed
   * envelopes"). Default: none; the group is then only as private as the broker's ACLs make it.
   */
  groupKey?: GroupKeyInput;
  /** Keys that still open envelopes during a key rotation, but never seal; needs `groupKey`. */
  previousGroupKeys?: readonly GroupKeyInput[];
  username?: string;
  password?: string;
  /** TLS settings for `mqtts:`, `ssl:` and `wss:` URLs; see {@link MqttTlsOptions}. */
  tls?: MqttTlsOptions;
  /** How long {@link MqttTransport.start} may take to connect and subscribe. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Only used when a `forward` call's own `timeoutMs` is not a positive number. Default 10,000 ms. */
  forwardTimeoutMs?: number;
  /** Largest snapshot chunk, in bytes of data; keep it below the broker's packet limit. Default 256 KiB. */
  snapshotChunkBytes?: number;
  /** Snapshot chunks a sender may have unacknowledged at once. Default 4. */
  snapshotWindow?: number;
  /** Larger received payloads are dropped (and larger outgoing messages not sent). Default 8 MiB. */
  maxMessageBytes?: number;
  /**
   * While more than this many bytes wait in the connection's send buffer, AppendEntries that carry
   * entries are dropped (Raft resends them) instead of queued, so heartbeats and votes never wait
   * behind more than about this much data. Default 2 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * A leader's identical appends and heartbeats to at least this many followers go out as one
   * publish to the multicast topic, which every member reads (docs/protocol.md §3, "Multicasts");
   * to fewer, one to each inbox. Default 3: in a group of three, a multicast would save one
   * publish and cost the leader the delivery of its own publish.
   */
  multicastMinRecipients?: number;
  /**
   * Base time a snapshot transfer may take; each transfer gets this plus the bytes sent so far at
   * {@link snapshotBytesPerSecond}. A receiver also gives up after this long without a chunk. Default 30,000 ms.
   */
  snapshotTimeoutMs?: number;
  /** The slowest throughput a snapshot transfer is granted time for. Default 1 MiB/s. */
  snapshotBytesPerSecond?: number;
  /** Delay between reconnection attempts. Default 500 ms. */
  reconnectPeriodMs?: number;
  /** How long `close` lets queued publishes drain before it drops the connection. Default 1,000 ms. */
  closeGraceMs?: number;
  /**
   * Where the transport logs connection loss and recovery, dropped payloads (at a bounded rate),
   * a duplicate member id or a second group; pino-compatible. Default: nothing is logged.
   */
  logger?: Logger;
  /**
   * Passed to mqtt.js (TLS material, keepalive, …). The transport's own settings win over these:
   * `protocolVersion` 4, `clean` true, `resubscribe` false (it resubscribes itself), `queueQoSZero`
   * false, `reconnectPeriod`, `connectTimeout`, `username`, `password`. `clientId` may be overridden,
   * at the cost of the duplicate-id protection described in docs/protocol.md.
   */
  clientOptions?: Partial<IClientOptions>;
}

/** The options with every default applied. */
export interface MqttConfig {
  readonly localId: string;
  readonly url: string;
  readonly cluster: string;
  readonly root: string;
  readonly group: string;
  /** Sealing key first, then the keys that only open; empty without a group key. */
  readonly groupKeys: readonly Uint8Array[];
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: MqttTlsOptions | undefined;
  readonly connectTimeoutMs: number;
  readonly forwardTimeoutMs: number;
  readonly snapshotChunkBytes: number;
  readonly snapshotWindow: number;
  readonly maxMessageBytes: number;
  readonly maxBufferedBytes: number;
  readonly multicastMinRecipients: number;
  readonly snapshotTimeoutMs: number;
  readonly snapshotBytesPerSecond: number;
  readonly reconnectPeriodMs: number;
  readonly closeGraceMs: number;
  readonly logger: Logger;
  readonly clientOptions: Partial<IClientOptions>;
}

/** Room left in a chunk's payload for the envelope around the data. */
export const ENVELOPE_OVERHEAD_BYTES = 4096;

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * Default of {@link MqttTransportOptions.maxMessageBytes}: no member sends a larger payload (such a
 * message is dropped as `tooLarge`) or accepts one.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * MiB;

const URL_PROTOCOLS = new Set(['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:']);

/** Why `url` cannot name a broker, or null. A URL without a host would only fail on connect. */
function urlProblem(url: string): string | null {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (parsed === null || !URL_PROTOCOLS.has(parsed.protocol))
    return 'must be a URL with protocol mqtt, mqtts, tcp, ssl, ws or wss';
  if (parsed.hostname === '')
    return `must name the broker's host, such as ${parsed.protocol}//127.0.0.1:1883`;
  return null;
}

function named(check: (value: string) => string | null) {
  return z.string().superRefine((value, ctx) => {
    const problem = check(value);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });
}

const pem = z.union([z.string(), z.instanceof(Uint8Array)], 'must be PEM text or bytes');

const tlsSchema = z
  .strictObject({
    ca: z.union([pem, z.array(pem)]).optional(),
    cert: pem.optional(),
    key: pem.optional(),
    servername: z.string().min(1, 'must be a non-empty string').optional(),
    rejectUnauthorized: z.boolean().optional(),
  })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), 'cert and key go together');

const groupKeySchema = z.custom<GroupKeyInput>().superRefine((key, ctx) => {
  const problem = groupKeyProblem(key);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const positiveMs = z.int('must be an integer').min(1, 'must be at least 1').max(2_147_483_647);

const optionsSchema = z
  .object({
    localId: named(nameProblem),
    url: named(urlProblem),
    cluster: named(nameProblem).optional(),
    root: named(rootProblem).optional(),
    group: z.string().max(64, 'must be at most 64 characters').optional(),
    groupKey: groupKeySchema.optional(),
    previousGroupKeys: z.array(groupKeySchema).max(8, 'must hold at most 8 keys').optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: tlsSchema.optional(),
    connectTimeoutMs: positiveMs.optional(),
    forwardTimeoutMs: positiveMs.optional(),
    snapshotChunkBytes: z.int('must be an integer').min(1, 'must be at least 1').optional(),
    snapshotWindow: z.int('must be an integer').min(1, 'must be at least 1').max(1024).optional(),
    maxMessageBytes: z
      .int('must be an integer')
      .min(ENVELOPE_OVERHEAD_BYTES + 1, `must be more than ${ENVELOPE_OVERHEAD_BYTES}`)
      .max(256 * MiB, 'must be at most 256 MiB (MQTT limit)')
      .optional(),
    maxBufferedBytes: z.int('must be an integer').min(0, 'must be at least 0').optional(),
    multicastMinRecipients: z.int('must be an integer').min(2, 'must be at least 2').optional(),
    snapshotTimeoutMs: positiveMs.optional(),
    snapshotBytesPerSecond: z.number().positive('must be positive').optional(),
    reconnectPeriodMs: positiveMs.optional(),
    closeGraceMs: z.int('must be an integer').min(0, 'must be at least 0').max(60_000).optional(),
    logger: z.custom<Logger>(isLogger, 'must have debug, info, warn and error methods').optional(),
    clientOptions: z
      .custom<Partial<IClientOptions>>(
        (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
        'must be an object',
      )
      .optional(),
  })
  .superRefine((o, ctx) => {
    if (o.previousGroupKeys !== undefined && o.previousGroupKeys.length > 0 && o.groupKey === undefined) {
      ctx.addIssue({ code: 'custom', path: ['previousGroupKeys'], message: 'needs groupKey' });
    }
    const chunk = o.snapshotChunkBytes ?? 256 * KiB;
    const max = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (chunk + ENVELOPE_OVERHEAD_BYTES > max) {
      ctx.addIssue({
        code: 'custom',
        path: ['snapshotChunkBytes'],
        message: `must leave ${ENVELOPE_OVERHEAD_BYTES} bytes of room below maxMessageBytes (${max})`,
      });
    }
  });

/** Validates `options` and applies defaults; throws `INVALID_CONFIG` with `<field>: <rule>`. */
export function resolveOptions(options: MqttTransportOptions): MqttConfig {
  if (typeof options !== 'object' || options === null) {
    throw new RaftError('INVALID_CONFIG', 'options: must be an object');
  }
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) throw new RaftError('INVALID_CONFIG', firstIssue(parsed.error));
  const o = parsed.data;
  return {
    localId: o.localId,
    url: o.url,
    cluster: o.cluster ?? 'default',
    root: o.root ?? 'mqtt-raft',
    group: o.group ?? '',
    groupKeys:
      o.groupKey === undefined
        ? []
        : [o.groupKey, ...(o.previousGroupKeys ?? [])].map((key) => parseGroupKey(key)),
    username: o.username,
    password: o.password,
    // The schema checked the shape; the caller's object is kept as given (PEM can be large).
    tls: o.tls === undefined ? undefined : (options.tls as MqttTlsOptions),
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    forwardTimeoutMs: o.forwardTimeoutMs ?? 10_000,
    snapshotChunkBytes: o.snapshotChunkBytes ?? 256 * KiB,
    snapshotWindow: o.snapshotWindow ?? 4,
    maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    maxBufferedBytes: o.maxBufferedBytes ?? 2 * MiB,
    multicastMinRecipients: o.multicastMinRecipients ?? 3,
    snapshotTimeoutMs: o.snapshotTimeoutMs ?? 30_000,
    snapshotBytesPerSecond: o.snapshotBytesPerSecond ?? MiB,
    reconnectPeriodMs: o.reconnectPeriodMs ?? 500,
    closeGraceMs: o.closeGraceMs ?? 1000,
    logger: o.logger ?? silentLogger,
    clientOptions: o.clientOptions ?? {},
  };
}
