import { randomBytes } from 'node:crypto';
import type { MulticastMessage } from '../core/multicast.js';
import type { Message, NodeId, SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';
import { msgpackEncode } from '../msgpack.js';
import {
  type ControlInbound,
  decodeInbound,
  encodeBatch,
  encodeEnvelope,
  encodeWithBody,
  isBatch,
  messageEnvelope,
  type OutboundEnvelope,
  type SingleResult,
} from './mqtt-codec.js';
import { MqttConnection } from './mqtt-connection.js';
import { Discovery, NOT_A_MEMBER, type ProbeResult, type Prober } from './mqtt-discovery.js';
import { ForwardCalls, serveForward } from './mqtt-forward.js';
import { describe, type MqttLink } from './mqtt-link.js';
import { multicastEnvelope } from './mqtt-multicast.js';
import { type MqttConfig, type MqttTransportOptions, resolveOptions } from './mqtt-options.js';
import { Outbox, type QueuedEnvelope } from './mqtt-outbox.js';
import { Presence } from './mqtt-presence.js';
import { EnvelopeSeal } from './mqtt-seal.js';
import { refuseTransfer, SnapshotReceive, transferLimitProblem } from './mqtt-snapshot-receive.js';
import { SnapshotSend } from './mqtt-snapshot-send.js';
import { countDrop, type MqttTransportStats, newStats } from './mqtt-stats.js';
import { clientIdOf, isValidName, Topics } from './mqtt-topics.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type {
  ForwardOptions,
  ForwardRequest,
  ForwardResponse,
  Transport,
  TransportHandler,
} from './types.js';

type State = 'idle' | 'starting' | 'running' | 'closed';

/** Drops that mean someone on the broker is forging or replaying (or holds another key). */
const SUSPICIOUS: ReadonlySet<string> = new Set([
  'badSeal',
  'replayed',
  'staleIncarnation',
  'unsealed',
  'sealedWithoutKey',
]);

/**
 * A {@link Transport} over an MQTT 3.1.1 broker (docs/protocol.md has the wire protocol).
 *
 * - `send` publishes QoS 0 to the addressee's inbox, fire and forget; while disconnected, messages
 *   are dropped (and counted), not queued: Raft retransmits, and stale heartbeats are useless.
 * - `sendSnapshot` streams chunks with a window of acknowledgements and resolves on the receiver's
 *   confirmation; `forward` is a request/response over the reply inboxes, or a broadcast.
 * - A lost connection fails every RPC in flight at once (indefinite `UNREACHABLE`); mqtt.js
 *   reconnects, and the transport resubscribes before it reports itself ready again.
 * - Anything received that is malformed, oversized, of another version, cluster, group or addressee is
 *   dropped, counted in {@link stats} and logged; nothing received ever throws into the node.
 */
export class MqttTransport implements Transport {
  readonly localId: NodeId;
  /** Live counters. */
  readonly stats: MqttTransportStats = newStats();
  private readonly config: MqttConfig;
  private readonly topics: Topics;
  /** Random per instance: client id suffix, hello token, prefix of correlation ids. */
  private readonly token = randomBytes(6).toString('hex');
  private counter = 0;
  private state: State = 'idle';
  private handler: TransportHandler | null = null;
  private connection: MqttConnection | null = null;
  private readonly link: MqttLink;
  private readonly forwards: ForwardCalls;
  /** QoS 0 envelopes to one member, held to the end of the event loop's turn and sent together. */
  private readonly outbox: Outbox;
  private readonly sending = new Map<string, SnapshotSend>();
  private readonly receiving = new Map<string, SnapshotReceive>();
  private readonly presence: Presence;
  private discovery: Discovery;
  /** With a group key: seals what we send, opens (and refuses replays of) what we receive. */
  private readonly seal: EnvelopeSeal | null;
  /** For drops a sender can cause at will (forgeries, replays, retained messages). */
  /** Every drop is logged through it: a sender on the broker can cause most of them at will. */
  private readonly dropLog: RateLimitedLog;
  /** True for a transport that only probes (it says nothing about the group's security). */
  private probeOnly = false;

  /**
   * Connects a transport that only probes (it takes no traffic and answers no probe), asks which
   * members are live under the cluster name for `windowMs` (docs/protocol.md §7), and closes it.
   */
  static async probeCluster(options: MqttTransportOptions, windowMs: number): Promise<ProbeResult> {
    const prober = await MqttTransport.openProber(options);
    try {
      return await prober.probe(options.group ?? '', windowMs);
    } finally {
      await prober.close();
    }
  }

  /**
   * Connects a transport that only probes: it takes no traffic and answers no probe. A member
   * opens one before it bootstraps, joins or restarts, to learn which members are live under the
   * cluster name and that its id is not in use; connecting it while the store opens saves open()
   * a broker round trip or two.
   */
  static async openProber(options: MqttTransportOptions): Promise<Prober> {
    const transport = new MqttTransport(options);
    transport.probeOnly = true;
    transport.discovery = new Discovery(transport.link, transport.token, '', transport.stats, false);
    await transport.start(NOT_A_MEMBER);
    return {
      // From 0: a twin may have answered the hello that start() sent before the probe begins.
      probe: (group, windowMs) => transport.discovery.probe(windowMs, { group, duplicatesBefore: 0 }),
      close: () => transport.close(),
    };
  }

  /** Validates `options`; throws `INVALID_CONFIG` (`<field>: <rule>`) when one is wrong. */
  constructor(options: MqttTransportOptions) {
    this.config = resolveOptions(options);
    this.localId = this.config.localId;
    this.topics = new Topics(this.config.root, this.config.cluster, this.localId);
    this.seal = this.config.groupKeys.length > 0 ? new EnvelopeSeal(this.config.groupKeys) : null;
    this.dropLog = new RateLimitedLog(this.config.logger);
    this.link = {
      localId: this.localId,
      cluster: this.config.cluster,
      topics: this.topics,
      ready: () => this.connected,
      publish: (topic, envelope, qos) => this.publish(topic, envelope, qos),
      nextId: () => `${this.token}-${(++this.counter).toString(36)}`,
      logger: this.config.logger,
    };
    this.forwards = new ForwardCalls(this.link, this.stats);
    this.outbox = new Outbox(
      (topic, to, group) => this.publishGroup(topic, to, group),
      this.config.maxMessageBytes,
    );
    this.discovery = new Discovery(this.link, this.token, this.config.group, this.stats, true);
    this.presence = new Presence(this.link, this.token, (otherToken) => {
      this.stats.duplicateMember++;
      this.config.logger.error(
        { localId: this.localId, ownToken: this.token, otherToken },
        `another live transport uses member id ${this.localId}`,
      );
    });
  }

  /** The MQTT client id this transport connects with (docs/protocol.md, "Client ids"). */
  get clientId(): string {
    return this.config.clientOptions.clientId ?? clientIdOf(this.config.cluster, this.localId, this.token);
  }

  /** True while connected to the broker with every subscription in place. */
  get connected(): boolean {
    return this.state === 'running' && this.connection?.ready === true;
  }

  /**
   * Connects (MQTT 3.1.1, clean session), subscribes to this node's inbox, reply inbox and the
   * broadcast topic, and resolves once the subscriptions are acknowledged. Rejects with
   * `UNREACHABLE` when the broker cannot be reached within `connectTimeoutMs` (nothing is left
   * running, and `start` may be called again), `SHUTDOWN` after close, `INVALID_INPUT` when started twice.
   */
  async start(handler: TransportHandler): Promise<void> {
    if (this.state === 'closed') throw new RaftError('SHUTDOWN', `transport ${this.localId} is closed`);
    if (this.state !== 'idle')
      throw new RaftError('INVALID_INPUT', `transport ${this.localId} is already started`);
    this.state = 'starting';
    this.handler = handler;
    const connection = new MqttConnection(this.config, this.topics, this.clientId, {
      onPayload: (topic, payload, retained) => this.onPayload(topic, payload, retained),
      onReady: (reconnected) => this.onReady(reconnected),
      onLost: () => this.onLost(),
    });
    this.connection = connection;
    try {
      await connection.open();
    } catch (err) {
      if (this.state === 'starting') {
        this.state = 'idle';
        this.handler = null;
        this.connection = null;
      }
      throw err;
    }
    if (this.state !== 'starting') throw new RaftError('SHUTDOWN', `transport ${this.localId} was closed`);
    this.state = 'running';
    if (this.seal === null && !this.probeOnly) {
      this.config.logger.warn(
        { localId: this.localId, cluster: this.config.cluster },
        'no group key: the group is unauthenticated; any client of the broker can read, forge and replay its messages unless broker ACLs confine its topics (docs/security.md)',
      );
    }
    this.presence.announce();
  }

  /** Publishes `message` (QoS 0) to its addressee's inbox; never throws, never waits. */
  send(message: Message): void {
    if (!isValidName(message.to)) {
      if (this.state === 'running') this.drop('invalidAddress', message.to);
      else this.drop('notRunning', message.to);
      return;
    }
    if (!this.mayQueue(message)) return;
    this.queue(this.topics.inboxOf(message.to), message.to, messageEnvelope(this.config.cluster, message));
  }

  /**
   * Publishes `message` once to the multicast topic, which every member reads, for `recipients`
   * to read as addressed to each of them (docs/protocol.md §3, "Multicasts"). To fewer than
   * `multicastMinRecipients`, sends to each inbox instead: every member, the leader included,
   * receives a multicast, so for two followers it would save one publish and cost the leader a
   * delivery of its own. Never throws, never waits.
   */
  multicast(recipients: readonly NodeId[], message: MulticastMessage): void {
    const valid = recipients.filter((to) => isValidName(to));
    if (valid.length < this.config.multicastMinRecipients) {
      for (const to of recipients) this.send(to === message.to ? message : { ...message, to });
      return;
    }
    if (!this.mayQueue(message)) return;
    for (const to of recipients) if (!isValidName(to)) this.drop('invalidAddress', to);
    this.stats.multicastsSent++;
    this.queue(this.topics.multicast, null, multicastEnvelope(this.config.cluster, valid, message));
  }

  /** Whether a message may be queued now; counts the drop when not. */
  private mayQueue(message: Message): boolean {
    if (this.state !== 'running') {
      this.drop('notRunning', message.to);
      return false;
    }
    if (this.connection?.ready !== true) {
      this.drop('notConnected', message.to);
      return false;
    }
    // Bulk waits, the heartbeats behind it must not: past the limit, entries are left for Raft to resend.
    if (
      message.type === 'appendRequest' &&
      message.entries.length > 0 &&
      this.connection.bufferedBytes + this.outbox.bytes > this.config.maxBufferedBytes
    ) {
      this.drop('congested', message.to);
      return false;
    }
    return true;
  }

  /** Encodes a message's envelope body and queues it in the outbox for `topic`. */
  private queue(topic: string, to: NodeId | null, envelope: OutboundEnvelope): void {
    const peer = to ?? 'multicast';
    let body: Uint8Array;
    try {
      body = msgpackEncode(envelope.b);
    } catch (err) {
      this.drop('unencodable', peer, describe(err));
      return;
    }
    if (body.byteLength > this.config.maxMessageBytes) {
      this.drop('tooLarge', peer, `${body.byteLength} bytes`);
      return;
    }
    this.stats.sent++;
    this.outbox.add(topic, to, {
      k: envelope.k,
      id: '',
      body,
      settle: (err) => {
        if (err !== null) this.drop('publishFailed', peer, describe(err));
      },
    });
  }

  /**
   * Streams a snapshot to `request.to` in chunks of at most `snapshotChunkBytes`. Resolves once the
   * receiver's node has stored it; rejects with the receiver's error, with `TIMEOUT` (indefinite)
   * when unconfirmed after `snapshotTimeoutMs` plus the bytes sent at `snapshotBytesPerSecond` or
   * when `signal` aborts, with `UNREACHABLE` when not connected or the connection drops, and with
   * `SHUTDOWN` when this transport closes meanwhile.
   */
  async sendSnapshot(
    request: SnapshotRequest,
    chunks: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void> {
    const what = `snapshot ${request.snapshot.index}/${request.snapshot.term} to ${request.to}`;
    if (signal?.aborted === true)
      throw new RaftError('TIMEOUT', `${what}: aborted`, { cause: signal.reason });
    this.checkUsable(what);
    if (!isValidName(request.to)) throw new RaftError('UNREACHABLE', `${what}: not a valid member id`);
    const { snapshotChunkBytes, snapshotWindow, snapshotTimeoutMs, snapshotBytesPerSecond } = this.config;
    const limits = {
      chunkBytes: snapshotChunkBytes,
      window: snapshotWindow,
      timeoutMs: snapshotTimeoutMs,
      bytesPerSecond: snapshotBytesPerSecond,
    };
    const transfer = new SnapshotSend(this.link, this.stats, limits, request, chunks, signal);
    this.sending.set(transfer.id, transfer);
    try {
      await transfer.run();
    } finally {
      this.sending.delete(transfer.id);
    }
  }

  /**
   * Forwards a client operation (QoS 0) to `to`'s inbox, or to the broadcast topic when `to` is
   * null, and resolves with the answer. A broadcast resolves with the first `ok` answer or
   * `NOT_LEADER` that names a leader. Rejects with `TIMEOUT` (indefinite) after `timeoutMs` or when
   * `signal` aborts, `UNREACHABLE` when not connected (definite) or when the connection drops
   * (indefinite), `SHUTDOWN` after close.
   */
  forward(to: NodeId | null, request: ForwardRequest, options: ForwardOptions): Promise<ForwardResponse> {
    try {
      this.checkUsable(`forward ${request.kind}`);
    } catch (err) {
      return Promise.reject(err);
    }
    const timeoutMs =
      Number.isFinite(options.timeoutMs) && options.timeoutMs > 0
        ? options.timeoutMs
        : this.config.forwardTimeoutMs;
    return this.forwards.call(to, request, { ...options, timeoutMs });
  }

  /**
   * Stops receiving at once, fails RPCs in flight with `SHUTDOWN` (incoming snapshot transfers are
   * answered as failed), and ends the MQTT client after at most `closeGraceMs`. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    // What this turn queued still goes out: the connection's close waits for its writes.
    this.outbox.flush();
    this.state = 'closed';
    this.handler = null;
    const shutdown = (indefinite: boolean) =>
      new RaftError('SHUTDOWN', `transport ${this.localId} is closed`, { indefinite });
    this.forwards.failAll(() => shutdown(true));
    for (const t of this.sending.values()) t.fail(shutdown(t.begun));
    for (const t of this.receiving.values()) t.fail(shutdown(false));
    this.receiving.clear();
    await this.connection?.close(this.config.closeGraceMs);
    this.connection = null;
  }

  // --- internals -----------------------------------------------------------------------------

  private checkUsable(what: string): void {
    if (this.state === 'closed')
      throw new RaftError('SHUTDOWN', `${what}: transport ${this.localId} is closed`);
    if (this.state !== 'running') {
      throw new RaftError('UNREACHABLE', `${what}: transport ${this.localId} is not started`, {
        retryable: true,
      });
    }
    if (this.connection?.ready !== true) {
      throw new RaftError('UNREACHABLE', `${what}: not connected to the broker`, { retryable: true });
    }
  }

  /**
   * The link's publish: forwards and their answers wait in the outbox with this turn's other
   * envelopes to the same member; everything else (QoS 1, broadcasts) goes out at once.
   */
  private publish(topic: string, envelope: OutboundEnvelope, qos: 0 | 1): Promise<void> {
    const connection = this.connection;
    if (connection === null) return Promise.reject(new Error('not connected'));
    const { k, id, t } = envelope;
    if (qos === 0 && t !== null && (k === 'forwardRequest' || k === 'forwardResponse')) {
      let body: Uint8Array;
      try {
        body = msgpackEncode(envelope.b);
      } catch (err) {
        return Promise.reject(err);
      }
      return new Promise((resolve, reject) => {
        this.outbox.add(topic, t, { k, id, body, settle: (err) => (err === null ? resolve() : reject(err)) });
      });
    }
    let payload: Uint8Array;
    try {
      payload = encodeEnvelope(envelope, this.config.group, this.sealing(topic));
    } catch (err) {
      return Promise.reject(err);
    }
    return connection.publish(topic, payload, qos);
  }

  /** Publishes one group from the outbox: one envelope alone, or several as a `batch`. */
  private publishGroup(topic: string, to: NodeId | null, group: readonly QueuedEnvelope[]): void {
    const settle = (err: unknown) => {
      for (const item of group) item.settle(err);
    };
    const connection = this.connection;
    if (connection?.ready !== true || this.state !== 'running') {
      settle(new Error('not connected'));
      return;
    }
    const from = this.localId;
    const cluster = this.config.cluster;
    let payload: Uint8Array;
    try {
      const [first] = group;
      payload =
        group.length === 1 && first !== undefined
          ? encodeWithBody(
              { k: first.k, id: first.id, f: from, t: to, c: cluster },
              first.body,
              this.config.group,
              this.sealing(topic),
            )
          : encodeBatch({ f: from, t: to, c: cluster }, group, this.config.group, this.sealing(topic));
    } catch (err) {
      settle(err);
      return;
    }
    if (payload.byteLength > this.config.maxMessageBytes) {
      settle(new Error(`${payload.byteLength} bytes exceeds the limit of ${this.config.maxMessageBytes}`));
      return;
    }
    connection.publish(topic, payload, 0).then(
      () => settle(null),
      (err: unknown) => settle(err),
    );
  }

  private onReady(reconnected: boolean): void {
    if (!reconnected) return;
    this.stats.reconnects++;
    this.config.logger.info({ localId: this.localId }, 'MQTT reconnected and resubscribed');
    this.presence.announce();
  }

  /** The connection dropped: whatever was in flight may be lost, so every RPC fails now. */
  private onLost(): void {
    const lost = (what: string) =>
      new RaftError('UNREACHABLE', `${what}: the connection to the broker was lost`, {
        retryable: true,
        indefinite: true,
      });
    this.forwards.failAll(() => lost('forward'));
    for (const t of this.sending.values()) t.fail(lost('snapshot'));
    for (const t of this.receiving.values()) t.fail(lost('snapshot'));
  }

  private sealing(topic: string): { seal: EnvelopeSeal; topic: string } | undefined {
    return this.seal === null ? undefined : { seal: this.seal, topic };
  }

  private onPayload(topic: string, payload: Uint8Array, retained: boolean): void {
    const handler = this.handler;
    if (handler === null) return;
    // Members never retain; a retained message is someone else's, or an old one replayed to us.
    if (retained) {
      this.dropSuspicious('retained', topic, 'the broker delivered a retained message');
      return;
    }
    const role = this.topics.roleOf(topic);
    if (role === null) {
      this.drop('wrongTopic', topic);
      return;
    }
    const result = decodeInbound(
      payload,
      role,
      {
        cluster: this.config.cluster,
        group: this.config.group,
        localId: this.localId,
        maxBytes: this.config.maxMessageBytes,
        seal: this.seal ?? undefined,
      },
      topic,
    );
    if (isBatch(result)) {
      for (const item of result.inbound.items) this.deliver(item, topic, handler);
      return;
    }
    this.deliver(result, topic, handler);
  }

  /** Hands a decoded envelope to the node or the RPC it answers, or counts why it was refused. */
  private deliver(result: SingleResult, topic: string, handler: TransportHandler): void {
    if (!result.ok) {
      if (result.reason === 'ownMulticast' || result.reason === 'notRecipient') {
        this.stats.multicastsSkipped++;
        return;
      }
      if (SUSPICIOUS.has(result.reason)) {
        this.dropSuspicious(result.reason, topic, result.detail);
        return;
      }
      if (result.foreign !== undefined) {
        // Counted quietly as a drop; Discovery reports the second group loudly, at a bounded rate.
        this.drop(result.reason, topic, result.detail);
        this.discovery.foreign(result.foreign.group, result.foreign.from);
        return;
      }
      this.drop(result.reason, topic, result.detail, 'warn');
      return;
    }
    const inbound = result.inbound;
    if (inbound.kind === 'message') {
      this.stats.received++;
      try {
        handler.onMessage(inbound.message);
      } catch (err) {
        this.stats.handlerErrors++;
        this.config.logger.error({ error: describe(err) }, 'onMessage threw');
      }
      return;
    }
    this.onControl(inbound, handler);
  }

  private onControl(inbound: ControlInbound, handler: TransportHandler): void {
    switch (inbound.kind) {
      case 'forwardRequest': {
        const envelope = { id: inbound.id, from: inbound.from, broadcast: inbound.to === null };
        // Our own broadcast comes back to us: only other members answer it.
        if (envelope.broadcast && inbound.from === this.localId) return;
        // A member speaks only for itself: the leader's dedupe and the origin's answers are keyed by it.
        if (inbound.body.origin !== inbound.from) {
          this.dropSuspicious('forgedOrigin', inbound.from, `a forward of ${inbound.body.origin}'s request`);
          return;
        }
        void serveForward(this.link, this.stats, handler, { ...envelope, request: inbound.body });
        return;
      }
      case 'forwardResponse':
        if (!this.forwards.answer(inbound.id, inbound.from, inbound.body))
          this.drop('lateResponse', inbound.from);
        return;
      case 'snapshotBegin': {
        const key = `${inbound.from}\u0000${inbound.id}`;
        if (this.receiving.has(key)) return;
        const limit = transferLimitProblem(this.receiving.values(), inbound.from);
        if (limit !== null) {
          this.drop('tooManyTransfers', inbound.from, limit);
          refuseTransfer(this.link, inbound.id, inbound.from, limit);
          return;
        }
        const request: SnapshotRequest = {
          ...inbound.body,
          type: 'snapshotRequest',
          from: inbound.from,
          to: this.localId,
        };
        const transfer = new SnapshotReceive(
          this.link,
          this.stats,
          inbound.id,
          inbound.from,
          request,
          this.config.snapshotTimeoutMs,
        );
        this.receiving.set(key, transfer);
        void transfer.run(handler).finally(() => {
          if (this.receiving.get(key) === transfer) this.receiving.delete(key);
        });
        return;
      }
      case 'snapshotChunk':
      case 'snapshotCancel': {
        const transfer = this.receiving.get(`${inbound.from}\u0000${inbound.id}`);
        if (transfer === undefined) {
          this.drop('unknownTransfer', inbound.from);
          return;
        }
        if (inbound.kind === 'snapshotChunk') transfer.onChunk(inbound.body);
        else transfer.onCancel(inbound.body);
        return;
      }
      case 'snapshotAck':
      case 'snapshotResult': {
        const transfer = this.sending.get(inbound.id);
        if (transfer === undefined || inbound.from !== transfer.target) {
          this.drop('unknownTransfer', inbound.from);
          return;
        }
        if (inbound.kind === 'snapshotAck') transfer.onAck(inbound.body);
        else transfer.onResult(inbound.body);
        return;
      }
      case 'hello':
        this.presence.heard(inbound.from, inbound.body.token);
        return;
      case 'probe':
        this.discovery.onProbe(inbound.id, inbound.from, inbound.body);
        return;
      case 'probeAnswer':
        if (!this.discovery.onAnswer(inbound.id, inbound.from, inbound.body))
          this.drop('lateResponse', inbound.from);
        return;
    }
  }

  /** Counts a drop that a sender on the broker may cause at will, and logs it at a bounded rate. */
  private dropSuspicious(reason: string, peer: string, detail: string): void {
    this.drop(reason, peer, detail, 'warn');
  }

  /** Counts a drop, and logs it at a bounded rate per reason. */
  private drop(reason: string, peer: string, detail?: string, level: 'debug' | 'warn' = 'debug'): void {
    countDrop(this.stats, reason);
    const details = { localId: this.localId, reason, peer, ...(detail === undefined ? {} : { detail }) };
    this.dropLog.log(level, reason, `dropped (${reason})`, details);
  }
}
