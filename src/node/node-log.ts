import type { Clock } from '../clock.js';
import type { Configuration, NodeId, Role } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { RaftEvents } from './events.js';

/** How often, at most, the drop counters are compared with what was logged. */
const DROP_CHECK_MS = 1000;
/** One reason's drops are logged at most this often: a peer can send rule-breaking messages at will. */
export const DROP_LOG_INTERVAL_MS = 10_000;

/** What a {@link NodeLog} watches. */
export interface NodeLogContext {
  readonly id: NodeId;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Subscribes to the node's events. */
  readonly on: <K extends keyof RaftEvents & string>(
    event: K,
    listener: (payload: RaftEvents[K]) => void,
  ) => unknown;
  /** The node's drop counters by reason (the core's and its own), since it started. */
  readonly dropped: () => Readonly<Record<string, number | undefined>>;
}

/**
 * Writes what a node does to its logger: role changes and elections, leaders, committed
 * membership, snapshots, peers that stop answering, dropped peer messages (at a bounded rate) and
 * a fail-stop.
 */
export class NodeLog {
  private readonly logger: Logger;
  /** Per reason: the total when it was last logged, and when. */
  private readonly dropsLogged = new Map<string, { total: number; at: number }>();
  private lastDropCheck: number;

  constructor(private readonly ctx: NodeLogContext) {
    this.logger = ctx.logger;
    this.lastDropCheck = ctx.clock.now();
    const id = ctx.id;
    ctx.on('stateChange', ({ previous, current, term }) =>
      this.logger.info({ localId: id, previous, role: current, term }, roleMessage(previous, current, term)),
    );
    ctx.on('leaderChange', ({ leader, term }) =>
      this.logger.info(
        { localId: id, leader, term },
        leader === null ? `no leader known (term ${term})` : `leader is ${leader} (term ${term})`,
      ),
    );
    ctx.on('peerChange', ({ configuration, index }) =>
      this.logger.debug(
        { localId: id, index, servers: configuration.servers.map((s) => ({ ...s })) },
        `membership in force from ${index} (not committed yet): ${describe(configuration)}`,
      ),
    );
    ctx.on('configurationCommitted', ({ configuration, index }) =>
      this.logger.info(
        { localId: id, index, servers: configuration.servers.map((s) => ({ ...s })) },
        `membership committed at ${index}: ${describe(configuration)}`,
      ),
    );
    ctx.on('heartbeatFailed', ({ peer, lastContact }) =>
      this.logger.warn({ localId: id, peer, lastContact }, `peer ${peer} stopped answering`),
    );
    ctx.on('heartbeatResumed', ({ peer }) =>
      this.logger.info({ localId: id, peer }, `peer ${peer} answers again`),
    );
    ctx.on('snapshotTaken', ({ index, bytes, durationMs }) =>
      this.logger.info({ localId: id, index, bytes, durationMs }, `snapshot taken at ${index}`),
    );
    ctx.on('snapshotInstalled', ({ index, bytes, durationMs }) =>
      this.logger.info({ localId: id, index, bytes, durationMs }, `snapshot installed at ${index}`),
    );
    ctx.on('snapshotFailed', ({ error }) =>
      this.logger.warn({ localId: id, error: describeError(error) }, 'snapshot failed'),
    );
  }

  /**
   * Logs drops counted since the last line of their reason, unless that line is less than
   * {@link DROP_LOG_INTERVAL_MS} old: the first drop of a reason shows within about a second,
   * a flood as one line per interval with its count.
   */
  checkDrops(): void {
    const now = this.ctx.clock.now();
    if (now - this.lastDropCheck < DROP_CHECK_MS) return;
    this.lastDropCheck = now;
    for (const [reason, total = 0] of Object.entries(this.ctx.dropped())) {
      const logged = this.dropsLogged.get(reason);
      const before = logged?.total ?? 0;
      if (total <= before || (logged !== undefined && now - logged.at < DROP_LOG_INTERVAL_MS)) continue;
      this.dropsLogged.set(reason, { total, at: now });
      this.logger.warn(
        { localId: this.ctx.id, reason, dropped: total - before, total },
        `dropped ${total - before} peer message(s) (${reason})`,
      );
    }
  }

  /** A local fault stopped the node (a failed write, corruption in its own store). */
  failStopped(error: unknown): void {
    this.logger.error(
      { localId: this.ctx.id, error: describeError(error) },
      'the node stopped after a local failure; it answers nothing until restarted',
    );
  }
}

function roleMessage(previous: Role, current: Role, term: number): string {
  switch (current) {
    case 'preCandidate':
      // Raft thesis §9.6: a pre-vote round asks whether an election could be won before any term changes.
      return `pre-vote started (term ${term})`;
    case 'candidate':
      return `election started (term ${term})`;
    case 'leader':
      return `elected leader (term ${term})`;
    case 'follower':
      return previous === 'leader' ? `stepped down (term ${term})` : `follower (term ${term})`;
  }
}

/** `a, b, c (staging)`: voters by id alone, the others with their suffrage. */
function describe(configuration: Configuration): string {
  const servers = configuration.servers.map((s) =>
    s.suffrage === 'voter' ? s.id : `${s.id} (${s.suffrage})`,
  );
  return servers.join(', ') || '(no servers)';
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
