/**
 * Automatic removal of dead members (`deadMemberTimeout`, in the spirit of Consul's autopilot): the
 * leader removes a member it has not heard from for that long, one at a time, and never a voter
 * whose removal would leave the voters without a live majority (member-rules.ts).
 */
import type { Clock, ClockTimer } from '../clock.js';
import type { NodeId } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { Raft } from '../node/raft.js';
import { deadMemberDecision } from './member-rules.js';

/** What the reaper needs. */
export interface DeadMemberReaperOptions {
  readonly raft: Raft;
  readonly clock: Clock;
  /** Silent this long: dead. */
  readonly deadAfterMs: number;
  /** Heard from within this long: live, for the majority rule. */
  readonly liveWithinMs: number;
  readonly logger?: Logger | undefined;
}

/** Looks for dead members while this node leads, and removes them. */
export class DeadMemberReaper {
  private readonly timer: ClockTimer;
  /** When this node became leader; null while it does not lead. */
  private leaderSince: number | null;
  /** When each member was first seen in the configuration here: its silence counts from then. */
  private readonly seenSince = new Map<NodeId, number>();
  private removing = false;
  private lastKept = '';
  private readonly onState = ({ current }: { current: string }): void => {
    this.leaderSince = current === 'leader' ? this.options.clock.now() : null;
  };
  private readonly onPeers = (): void => this.trackMembers();

  constructor(private readonly options: DeadMemberReaperOptions) {
    const { raft, clock } = options;
    this.leaderSince = raft.state() === 'leader' ? clock.now() : null;
    this.trackMembers();
    raft.on('stateChange', this.onState);
    raft.on('peerChange', this.onPeers);
    // A quarter of the timeout (at most a second): a dead member goes soon after it qualifies.
    const every = Math.max(10, Math.min(1000, Math.floor(options.deadAfterMs / 4)));
    this.timer = clock.setInterval(() => this.check(), every);
    this.timer.unref?.();
  }

  stop(): void {
    this.options.clock.clearInterval(this.timer);
    this.options.raft.off('stateChange', this.onState);
    this.options.raft.off('peerChange', this.onPeers);
  }

  private trackMembers(): void {
    const now = this.options.clock.now();
    const ids = new Set(this.options.raft.getConfiguration().configuration.servers.map((s) => s.id));
    for (const id of ids) if (!this.seenSince.has(id)) this.seenSince.set(id, now);
    for (const id of [...this.seenSince.keys()]) if (!ids.has(id)) this.seenSince.delete(id);
  }

  private check(): void {
    const { raft, clock, logger } = this.options;
    const leaderSince = this.leaderSince;
    if (this.removing || leaderSince === null || raft.state() !== 'leader') return;
    const progress = raft.followerProgress();
    if (progress === null) return;
    const contacts = new Map(progress.map((p) => [p.id, p.lastContact]));
    const { configuration, index } = raft.getConfiguration();
    const decision = deadMemberDecision({
      config: configuration,
      self: raft.id,
      now: clock.now(),
      lastContact: (id) => contacts.get(id) ?? null,
      watchedSince: (id) => Math.max(leaderSince, this.seenSince.get(id) ?? leaderSince),
      deadAfterMs: this.options.deadAfterMs,
      liveWithinMs: this.options.liveWithinMs,
    });
    // Said once per change of what is kept, not at every check.
    const kept = decision.kept.map((k) => `${k.id}: ${k.reason}`).join('; ');
    if (kept !== this.lastKept && kept !== '')
      logger?.warn({ localId: raft.id }, `dead members kept: ${kept}`);
    this.lastKept = kept;
    const dead = decision.remove;
    if (dead === null) return;
    this.removing = true;
    // prevIndex: the decision holds for this configuration only; a change meanwhile refuses it.
    raft
      .removeServer(dead, { prevIndex: index, timeoutMs: this.options.deadAfterMs })
      .then(
        ({ index: at }) =>
          logger?.warn(
            { localId: raft.id, member: dead, index: at },
            `removed dead member ${dead} (silent for ${this.options.deadAfterMs} ms)`,
          ),
        (err: unknown) =>
          logger?.warn(
            { localId: raft.id, member: dead },
            `could not remove dead member ${dead}: ${(err as Error)?.message ?? err}`,
          ),
      )
      .finally(() => {
        this.removing = false;
      });
  }
}
