/**
 * The embedded aedes broker with a fault-injection control API, for fault tests. Every delivery of
 * a publish to a subscriber passes aedes's `authorizeForward` hook, which knows the subscriber's
 * connection; the sender is read from the envelope's `f` field (MQTT 3.1.1 publishes do not carry
 * the publisher's client id). Each delivery is then judged on its link (sender → receiver):
 * blocked links drop it, link rules drop, delay (with jitter, which reorders) or duplicate it.
 * Delayed and duplicated copies are written to the subscriber's connection later with aedes's
 * per-client `publish`.
 */
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { seededRandom } from '../../src/core/random.js';
import { msgpackDecode } from '../../src/msgpack.js';

/** What happens to messages on a link; probabilities are from 0 to 1. */
export interface LinkRule {
  drop?: number;
  duplicate?: number;
  /** Every message waits this long, plus up to `jitterMs` (random jitter reorders messages). */
  delayMs?: number;
  jitterMs?: number;
}

/** Counters of what the broker did to deliveries. */
export interface FaultStats {
  delivered: number;
  blocked: number;
  dropped: number;
  delayed: number;
  duplicated: number;
  kicked: number;
}

const ANY = '*';

/** An aedes broker whose links between members can be cut, made lossy, slow or duplicating. */
export class FaultBroker {
  private broker: RunningBroker | null = null;
  private aedes: Aedes | null = null;
  private readonly clients = new Map<string, Client>();
  private readonly blocked = new Set<string>();
  private readonly rules = new Map<string, LinkRule>();
  private readonly senders = new WeakMap<object, string | null>();
  /** Payloads of the copies this broker writes itself: they pass the hook again and must not be judged twice. */
  private readonly copies = new WeakSet<object>();
  private readonly random;
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly stats: FaultStats = { delivered: 0, blocked: 0, dropped: 0, delayed: 0, duplicated: 0, kicked: 0 };

  private constructor(
    private readonly cluster: string,
    seed: number,
  ) {
    this.random = seededRandom(seed);
  }

  /** Starts a broker on 127.0.0.1 (`port` 0 lets the OS choose) for the group `cluster`. */
  static async start(cluster: string, seed: number, port = 0): Promise<FaultBroker> {
    const fb = new FaultBroker(cluster, seed);
    await fb.listen(port);
    return fb;
  }

  get url(): string {
    return this.running().url;
  }

  get port(): number {
    return this.running().port;
  }

  private running(): RunningBroker {
    if (this.broker === null) throw new Error('the fault broker is not running');
    return this.broker;
  }

  private async listen(port: number): Promise<void> {
    this.broker = await startBroker({ host: '127.0.0.1', port, instrument: (aedes) => this.install(aedes) });
  }

  private install(aedes: Aedes): void {
    this.aedes = aedes;
    aedes.on('client', (client) => this.clients.set(client.id, client));
    aedes.on('clientDisconnect', (client) => {
      if (this.clients.get(client.id) === client) this.clients.delete(client.id);
    });
    aedes.authorizeForward = (client, packet) => this.forward(client, packet);
  }

  /** The member a transport's client id names: `mqtt-raft-<cluster>-<member>-<12 hex token>`. */
  memberOf(clientId: string): string | null {
    const prefix = `mqtt-raft-${this.cluster}-`;
    const match = /^(.*)-[0-9a-f]{12}$/.exec(
      clientId.startsWith(prefix) ? clientId.slice(prefix.length) : '',
    );
    return match?.[1] ?? null;
  }

  /** The sender of an envelope (its `f` field), decoded once per payload. */
  private senderOf(packet: AedesPublishPacket): string | null {
    const payload = packet.payload as Buffer;
    const known = this.senders.get(payload);
    if (known !== undefined) return known;
    let sender: string | null = null;
    try {
      const envelope = msgpackDecode(payload) as { f?: unknown };
      if (typeof envelope?.f === 'string') sender = envelope.f;
    } catch {
      // Not an envelope: delivered untouched.
    }
    this.senders.set(payload, sender);
    return sender;
  }

  private forward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    if (this.copies.has(packet.payload as Buffer)) return packet;
    const to = this.memberOf(client.id);
    const from = this.senderOf(packet);
    if (to === null || from === null || from === to) return this.deliver(packet);
    if (this.blocked.has(`${from}>${to}`)) {
      this.stats.blocked++;
      return null;
    }
    const rule = this.ruleOf(from, to);
    if (rule === undefined) return this.deliver(packet);
    if (rule.drop !== undefined && this.random.float() < rule.drop) {
      this.stats.dropped++;
      return null;
    }
    if (rule.duplicate !== undefined && this.random.float() < rule.duplicate) {
      this.stats.duplicated++;
      this.later(client, packet, 1 + this.random.int(50));
    }
    const delay =
      (rule.delayMs ?? 0) + (rule.jitterMs === undefined ? 0 : this.random.int(rule.jitterMs + 1));
    if (delay <= 0) return this.deliver(packet);
    this.stats.delayed++;
    this.later(client, packet, delay);
    return null;
  }

  private deliver(packet: AedesPublishPacket): AedesPublishPacket {
    this.stats.delivered++;
    return packet;
  }

  private ruleOf(from: string, to: string): LinkRule | undefined {
    return (
      this.rules.get(`${from}>${to}`) ??
      this.rules.get(`${from}>${ANY}`) ??
      this.rules.get(`${ANY}>${to}`) ??
      this.rules.get(`${ANY}>${ANY}`)
    );
  }

  /** Writes a copy of `packet` to `client` after `ms`, unless the client went away meanwhile. */
  private later(client: Client, packet: AedesPublishPacket, ms: number): void {
    const payload = Buffer.from(packet.payload as Buffer);
    this.copies.add(payload);
    const copy = {
      cmd: 'publish' as const,
      topic: packet.topic,
      payload,
      qos: packet.qos,
      retain: false,
      dup: false,
    };
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (client.closed || this.clients.get(client.id) !== client) return;
      client.publish(copy, () => undefined);
    }, ms);
    this.timers.add(timer);
  }

  /** Messages from `from` no longer reach `to` (one way). */
  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  /** Cuts both directions between every member of `a` and every member of `b`. */
  split(a: readonly string[], b: readonly string[]): void {
    for (const x of a)
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
  }

  /** Cuts `member` off from all `others`, both ways. */
  isolate(member: string, others: readonly string[]): void {
    this.split(
      [member],
      others.filter((o) => o !== member),
    );
  }

  /** Splits `a` from `b`, except `bridge`, which still talks to both halves. */
  bridge(a: readonly string[], b: readonly string[], bridge: string): void {
    this.split(
      a.filter((m) => m !== bridge),
      b.filter((m) => m !== bridge),
    );
  }

  /** Applies `rule` to messages from `from` to `to`; `'*'` matches any member. */
  setRule(from: string, to: string, rule: LinkRule): void {
    this.rules.set(`${from}>${to}`, rule);
  }

  /** Removes every block and rule; delayed copies already scheduled still arrive. */
  heal(): void {
    this.blocked.clear();
    this.rules.clear();
  }

  /** Disconnects every connection of `member` (its client reconnects by itself); returns how many. */
  kick(member: string): number {
    let n = 0;
    for (const client of [...this.clients.values()]) {
      if (this.memberOf(client.id) !== member) continue;
      client.close();
      n++;
    }
    this.stats.kicked += n;
    return n;
  }

  /** Ids of the members connected now. */
  connectedMembers(): string[] {
    return [...new Set([...this.clients.keys()].map((id) => this.memberOf(id)).filter((m) => m !== null))];
  }

  /** Stops the broker (every client is disconnected); {@link startAgain} brings it back on the same port. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.clients.clear();
    await this.broker?.close();
    this.aedes = null;
  }

  /** Listens again on the port it had, with the same faults configured. */
  async startAgain(): Promise<void> {
    const port = this.running().port;
    this.broker = null;
    await this.listen(port);
  }

  async close(): Promise<void> {
    await this.stop();
    this.broker = null;
  }

  /** True while aedes is running (between start and stop). */
  get up(): boolean {
    return this.aedes !== null;
  }
}
