import type { NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { MqttLink } from './mqtt-link.js';
import type { MqttTransportStats } from './mqtt-stats.js';
import type { TransportHandler } from './types.js';

/** A live member that answered a probe, and the group it belongs to ('' when it has none yet). */
export interface ProbeAnswer {
  readonly id: NodeId;
  readonly group: string;
}

/** What a probe found on the broker under this cluster name. */
export interface ProbeResult {
  /** Every other live member that answered, once each. */
  readonly live: readonly ProbeAnswer[];
  /** True when another live process uses this member id (docs/protocol.md §7). */
  readonly duplicate: boolean;
}

/** A connected client that only probes (see `MqttTransport.openProber`). */
export interface Prober {
  /** Asks who is live under the cluster name, announcing `group`, for at least `windowMs`. */
  probe(group: string, windowMs: number): Promise<ProbeResult>;
  close(): Promise<void>;
}

/** The handler of a transport that only probes: it is no member, so it takes nothing. */
export const NOT_A_MEMBER: TransportHandler = {
  onMessage: () => undefined,
  onSnapshot: () => Promise.reject(new RaftError('UNREACHABLE', 'not a member yet')),
  onForward: () =>
    Promise.resolve({
      ok: false,
      error: {
        code: 'UNREACHABLE',
        message: 'not a member yet',
        retryable: true,
        indefinite: false,
        leader: null,
      },
    }),
};

/** How often, at most, a member logs that it heard from one foreign group. */
const FOREIGN_LOG_INTERVAL_MS = 10_000;
/** Foreign groups remembered for rate limiting; a sender inventing ids cannot make it grow further. */
const FOREIGN_GROUPS_KEPT = 64;
/**
 * The probe window in round trips to the broker, measured by the probe's own echo. A member's
 * answer takes about two (the probe out and the answer back, each through the broker); the rest
 * is the time a busy member may take to answer.
 */
const WINDOW_ROUND_TRIPS = 4;
/** The longest window, in multiples of the shortest: for a broker that never echoes the probe. */
const WINDOW_LIMIT_FACTOR = 20;

/**
 * Discovery of the live members under a cluster name (docs/protocol.md §7): a `probe` on the
 * broadcast topic, answered by every running member with a `probeAnswer` naming its group. A new
 * member probes before it bootstraps (to refuse a second group) or joins (to learn the group id it
 * adopts). It also reports, loudly but at a bounded rate, envelopes from another group.
 */
export class Discovery {
  private readonly calls = new Map<string, (answer: ProbeAnswer & { token: string }) => void>();
  /** The probes in flight, each waiting to hear itself back from the broker. */
  private readonly echoes = new Map<string, () => void>();
  private readonly foreignLogged = new Map<string, number>();

  constructor(
    private readonly link: MqttLink,
    private readonly token: string,
    private readonly group: string,
    private readonly stats: MqttTransportStats,
    /** False for a transport that only probes: it is not a member yet, so it must not answer. */
    private readonly answers: boolean,
  ) {}

  /**
   * Broadcasts a probe and collects the answers that arrive within the window: at least
   * `windowMs`, and longer on a distant broker, {@link WINDOW_ROUND_TRIPS} times the round trip
   * the probe's own echo measures, so that a short window on a local broker does not miss the
   * members of a remote one. A twin (another live process with this id) shows up as an answer
   * from this id with another token, or as its hello (counted in `stats.duplicateMember` by the
   * presence check, since `duplicatesBefore`). The probe announces `group`, by default our own.
   */
  async probe(
    windowMs: number,
    { group = this.group, duplicatesBefore = this.stats.duplicateMember } = {},
  ): Promise<ProbeResult> {
    const { link } = this;
    const id = link.nextId();
    const live = new Map<NodeId, ProbeAnswer>();
    let twin = false;
    this.calls.set(id, (answer) => {
      if (answer.id === link.localId) twin = twin || answer.token !== this.token;
      else live.set(answer.id, { id: answer.id, group: answer.group });
    });
    const longest = windowMs * WINDOW_LIMIT_FACTOR;
    const started = performance.now();
    const echo = new Promise<number>((resolve) => {
      this.echoes.set(id, () => resolve(performance.now() - started));
    });
    try {
      const body = { token: this.token, group };
      await link
        .publish(
          link.topics.broadcast,
          { k: 'probe', id, f: link.localId, t: null, c: link.cluster, b: body },
          1,
        )
        .catch(() => undefined);
      const roundTrip = await Promise.race([echo, delay(longest).then(() => longest)]);
      const window = Math.min(longest, Math.max(windowMs, WINDOW_ROUND_TRIPS * roundTrip));
      await delay(window - (performance.now() - started));
    } finally {
      this.calls.delete(id);
      this.echoes.delete(id);
    }
    return { live: [...live.values()], duplicate: twin || this.stats.duplicateMember > duplicatesBefore };
  }

  /**
   * A probe arrived on the broadcast topic: our own one times the broker's round trip; another's
   * is answered, unless we only probe.
   */
  onProbe(id: string, from: NodeId, body: { token: string; group: string }): void {
    const { link } = this;
    if (body.token === this.token) {
      this.echoes.get(id)?.();
      return;
    }
    if (!this.answers) return;
    if (body.group !== '' && this.group !== '' && body.group !== this.group) this.foreign(body.group, from);
    const answer = { token: this.token, group: this.group };
    link
      .publish(
        link.topics.replyOf(from),
        { k: 'probeAnswer', id, f: link.localId, t: from, c: link.cluster, b: answer },
        1,
      )
      .catch(() => undefined);
  }

  /** An answer to one of our probes; false when no probe waits for it. */
  onAnswer(id: string, from: NodeId, body: { token: string; group: string }): boolean {
    const call = this.calls.get(id);
    if (call === undefined) return false;
    call({ id: from, group: body.group, token: body.token });
    return true;
  }

  /**
   * An envelope from `from`, of group `group`, which is not ours: two groups live under one
   * cluster name, so members may be joined to the wrong one. Counted every time, logged as an
   * error at most every ten seconds per foreign group.
   */
  foreign(group: string, from: NodeId): void {
    this.stats.foreignGroup++;
    const now = Date.now();
    const last = this.foreignLogged.get(group);
    if (last !== undefined && now - last < FOREIGN_LOG_INTERVAL_MS) return;
    if (this.foreignLogged.size >= FOREIGN_GROUPS_KEPT) this.foreignLogged.clear();
    this.foreignLogged.set(group, now);
    this.link.logger.error(
      { localId: this.link.localId, group: this.group, foreignGroup: group, from },
      `cluster ${this.link.cluster} has a second group: ${from} belongs to group ${group}, this member to ${this.group}`,
    );
  }
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
