/**
 * The loop behind the leader's membership chores (removing dead members, keeping the voter
 * budget): while this node leads, look every so often at the followers and make at most one
 * membership change at a time (Raft thesis §4.1: one server change at a time).
 */
import type { Clock, ClockTimer } from '../clock.js';
import type { Configuration, NodeId } from '../core/types.js';
import type { FollowerProgress, Raft } from '../node/raft.js';

/** What a chore sees at each look. */
export interface ChoreView {
  readonly now: number;
  /** The newest configuration and its index (a change decided on it is refused if it changed since). */
  readonly config: Configuration;
  readonly index: number;
  /** True when the newest configuration is committed: no change is in flight. */
  readonly settled: boolean;
  readonly lastContact: (id: NodeId) => number | null;
  readonly matchIndex: (id: NodeId) => number;
  /** Silence of `id` counts from here: since this node leads, or since `id` joined, if later. */
  readonly watchedSince: (id: NodeId) => number;
}

/** A chore's step: a change to make (its promise settles when the change is decided), or null. */
export type ChoreStep = (view: ChoreView) => Promise<unknown> | null;

/** What a {@link LeaderChore} needs. */
export interface LeaderChoreOptions {
  readonly raft: Raft;
  readonly clock: Clock;
  readonly everyMs: number;
  readonly step: ChoreStep;
}

/** Runs `step` every `everyMs` while this node leads, one change at a time. */
export class LeaderChore {
  private readonly timer: ClockTimer;
  /** When this node became leader; null while it does not lead. */
  private leaderSince: number | null;
  /** When each member was first seen in the configuration here: its silence counts from then. */
  private readonly seenSince = new Map<NodeId, number>();
  private busy = false;
  private readonly onState = ({ current }: { current: string }): void => {
    this.leaderSince = current === 'leader' ? this.options.clock.now() : null;
  };
  private readonly onPeers = (): void => this.trackMembers();

  constructor(private readonly options: LeaderChoreOptions) {
    const { raft, clock } = options;
    this.leaderSince = raft.state() === 'leader' ? clock.now() : null;
    this.trackMembers();
    raft.on('stateChange', this.onState);
    raft.on('peerChange', this.onPeers);
    this.timer = clock.setInterval(() => this.look(), options.everyMs);
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

  private look(): void {
    const { raft, clock } = this.options;
    const leaderSince = this.leaderSince;
    if (this.busy || leaderSince === null || raft.state() !== 'leader') return;
    const progress = raft.followerProgress();
    if (progress === null) return;
    const byId = new Map<NodeId, FollowerProgress>(progress.map((p) => [p.id, p]));
    const { configuration, index } = raft.getConfiguration();
    const pending = this.options.step({
      now: clock.now(),
      config: configuration,
      index,
      settled: raft.getCommittedConfiguration().index >= index,
      lastContact: (id) => byId.get(id)?.lastContact ?? null,
      matchIndex: (id) => byId.get(id)?.matchIndex ?? 0,
      watchedSince: (id) => Math.max(leaderSince, this.seenSince.get(id) ?? leaderSince),
    });
    if (pending === null) return;
    this.busy = true;
    pending
      .catch(() => undefined)
      .finally(() => {
        this.busy = false;
      });
  }
}
