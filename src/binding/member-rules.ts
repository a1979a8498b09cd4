/**
 * The guard rails of membership changes, as pure functions of a configuration and of which voters
 * are live: what a removal or demotion would leave of the group's fault tolerance, and which dead
 * member the leader may remove on its own (`deadMemberTimeout`).
 */
import { votersOf, withoutServer, withServer } from '../core/configuration.js';
import { majority } from '../core/quorum.js';
import type { Configuration, NodeId } from '../core/types.js';

/** The configuration after `id` stops voting: removed, or kept as a non-voter. */
export function withoutVote(config: Configuration, id: NodeId, how: 'remove' | 'demote'): Configuration {
  return how === 'remove' ? withoutServer(config, id) : withServer(config, { id, suffrage: 'nonvoter' });
}

/** How many voters of `config` are in `live`. */
function liveVoters(config: Configuration, live: ReadonlySet<NodeId>): number {
  return votersOf(config).filter((id) => live.has(id)).length;
}

/**
 * Why `next` must not be proposed, or null: it has no voter left, or (when `live` is known, on the
 * leader) fewer of its voters are live than a majority of them, so it could never commit and the
 * group would stop.
 */
export function votingProblem(next: Configuration, live: ReadonlySet<NodeId> | null): string | null {
  const voters = votersOf(next).length;
  if (voters === 0) return 'it would leave no voter';
  if (live === null) return null;
  const alive = liveVoters(next, live);
  if (alive < majority(voters)) {
    return `only ${alive} of the ${voters} voters left would be live, fewer than a majority (${majority(voters)}): the group would stop`;
  }
  return null;
}

/**
 * Warnings about `next`'s fault tolerance: no failure tolerated by its voter count (a majority of
 * one or two voters is all of them), or (when `live` is known) every live voter needed for the
 * majority, so one more failure stops the group.
 */
export function toleranceWarnings(next: Configuration, live: ReadonlySet<NodeId> | null): string[] {
  const voters = votersOf(next).length;
  if (voters === 0) return [];
  if (voters < 3) {
    return [
      `the group keeps ${voters} voter${voters === 1 ? '' : 's'}: it tolerates no failure; add a member to restore fault tolerance`,
    ];
  }
  if (live !== null && liveVoters(next, live) === majority(voters)) {
    return [
      `only ${liveVoters(next, live)} of the ${voters} voters are live, exactly a majority: one more failure stops the group`,
    ];
  }
  return [];
}

/** What the leader knows when it looks for dead members. */
export interface DeadMemberView {
  readonly config: Configuration;
  /** The leader itself: never dead. */
  readonly self: NodeId;
  readonly now: number;
  /** When the leader last heard from `id`, or null when never. */
  readonly lastContact: (id: NodeId) => number | null;
  /**
   * Since when this node leads (or `id` joined the configuration, if later): silence before that
   * was not observed, so it does not count.
   */
  readonly watchedSince: (id: NodeId) => number;
  /** Silent this long: dead. */
  readonly deadAfterMs: number;
  /** Heard within this long: live, for the majority rule. */
  readonly liveWithinMs: number;
}

/** The leader's decision: a member to remove (or none), and the dead members it keeps, with why. */
export interface DeadMemberDecision {
  readonly remove: NodeId | null;
  readonly kept: ReadonlyArray<{ id: NodeId; reason: string }>;
}

/**
 * Picks one dead member to remove: silent for `deadAfterMs` since the leader started watching it.
 * Non-voters go first (they hold no vote), then the longest silent. A voter is removed only if the
 * voters left still have a live majority (see {@link votingProblem}): autopilot-style cleanup must
 * never be what stops the group.
 */
export function deadMemberDecision(view: DeadMemberView): DeadMemberDecision {
  const silentFor = (id: NodeId): number => {
    const heard = view.lastContact(id) ?? Number.NEGATIVE_INFINITY;
    return view.now - Math.max(heard, view.watchedSince(id));
  };
  const live = new Set<NodeId>([view.self]);
  for (const s of view.config.servers) {
    const heard = view.lastContact(s.id);
    if (heard !== null && view.now - heard <= view.liveWithinMs) live.add(s.id);
  }
  const dead = view.config.servers
    .filter((s) => s.id !== view.self && silentFor(s.id) >= view.deadAfterMs)
    .sort(
      (a, b) =>
        Number(a.suffrage === 'voter') - Number(b.suffrage === 'voter') ||
        silentFor(b.id) - silentFor(a.id) ||
        (a.id < b.id ? -1 : 1),
    );
  const kept: Array<{ id: NodeId; reason: string }> = [];
  for (const s of dead) {
    const problem = votingProblem(withoutServer(view.config, s.id), live);
    if (problem === null) return { remove: s.id, kept };
    kept.push({ id: s.id, reason: problem });
  }
  return { remove: null, kept };
}
