/** How a binding's `open()` joins the group when its member is not in it, and how `close()` leaves. */
import type { Clock } from '../clock.js';
import { isVoter } from '../core/configuration.js';
import type { Configuration } from '../core/types.js';
import { RaftError } from '../errors.js';
import { Raft } from '../node/raft.js';
import type { RaftStorage } from '../storage/types.js';

/** What {@link joinIfOutside} needs of the opening binding. */
export interface JoinContext {
  readonly raft: Raft;
  readonly storage: RaftStorage;
  readonly id: string;
  /** True when the store held no state before this open. */
  readonly existing: boolean;
  readonly bootstrap: boolean;
  readonly deadline: number;
  readonly clock: Clock;
  /** True when the newest committed configuration applied here lists `id`. */
  readonly isMember: (id: string) => boolean;
}

/**
 * Joins through the leader, as a non-voter, when this member is not listed in the group: a fresh
 * member; one that left or was leaving (its store records the removal, or a lower bound of its
 * index, though its log may still list it); one whose log shows it removed. A fresh member with an
 * id the group still lists (its store was wiped) is removed first: the leader's record of what
 * that id holds is false now, and a server that lost its stable storage must come back as a new
 * one (Raft thesis §3.8, §4.2.1). A member that is to vote then takes its vote ({@link takeVote}).
 */
export async function joinIfOutside(ctx: JoinContext): Promise<void> {
  const { raft, storage, id, deadline, clock } = ctx;
  const removedAt = await Raft.removalIndex(storage);
  const fresh = !ctx.existing && !ctx.bootstrap;
  const latest = raft.getConfiguration();
  if (!fresh && removedAt === 0 && isListed(latest.configuration, id)) return;
  // The join shows as a committed configuration listing us that is newer than what removed us;
  // an older one (replayed from our own log) proves nothing.
  const newerThan = Math.max(removedAt, fresh ? 0 : latest.index + 1);
  const timeoutMs = () => Math.max(1, deadline - clock.now());
  if (fresh || removedAt !== 0) {
    // After a wipe, or a leave whose outcome a crash may have cut short, our removal is made
    // definite first, so the join starts from a group without our old self.
    await raft.removeServer(id, { timeoutMs: timeoutMs() });
    // The group no longer counts on what our old self acknowledged: we may vote and replicate.
    raft.listen();
  }
  const { index } = await raft.addNonvoter(id, { timeoutMs: timeoutMs() });
  await waitUntil(
    clock,
    () => raft.getCommittedConfiguration().index >= Math.max(index, newerThan) && ctx.isMember(id),
    deadline,
    'the join to be applied here',
    nodeEvents(raft),
  );
  if (removedAt !== 0) await Raft.recordRemoval(storage, 0);
}

function isListed(configuration: Configuration, id: string): boolean {
  return configuration.servers.some((server) => server.id === id);
}

/** What {@link takeVote} needs of the opening binding. */
export interface VoteContext {
  readonly raft: Raft;
  readonly id: string;
  readonly deadline: number;
  readonly clock: Clock;
  /** True when the replicated settings hold a voter budget. */
  readonly budgeted: () => boolean;
  /** Records in the replicated settings that `id` may be promoted, unless they say so already. */
  readonly registerEligible: () => Promise<void>;
}

/**
 * A member that is to vote takes its vote once it knows whether the group has a voter budget, which
 * only the replicated state says (so it first applies what was committed when it started): under
 * a budget it registers as eligible and the leader promotes it when a seat is free
 * (voter-keeper.ts); without one it has itself promoted at once, as any server added to a Raft
 * group is, staging until it has caught up (thesis §4.2.1).
 */
export async function takeVote(ctx: VoteContext): Promise<void> {
  const { raft, id, deadline, clock } = ctx;
  const known = raft.stats().commitIndex;
  await waitUntil(
    clock,
    () => raft.stats().appliedIndex >= known,
    deadline,
    'the committed state to be applied',
  );
  if (ctx.budgeted()) return ctx.registerEligible();
  const voting = () => isVoter(raft.getCommittedConfiguration().configuration, id);
  if (voting()) return;
  await raft.addVoter(id, { timeoutMs: Math.max(1, deadline - clock.now()) });
  await waitUntil(clock, voting, deadline, 'the vote to be applied here', nodeEvents(raft));
}

/** Subscribes `listener` to whatever may make a wait's condition true; returns how to unsubscribe. */
export type Wake = (listener: () => void) => () => void;

/**
 * The node events after which a condition of `open()` may have become true: its role (the first
 * election), and configurations taking effect or being applied (a join, a vote).
 */
export function nodeEvents(raft: Raft): Wake {
  return (listener) => {
    raft.on('stateChange', listener);
    raft.on('configurationCommitted', listener);
    raft.on('peerChange', listener);
    return () => {
      raft.off('stateChange', listener);
      raft.off('configurationCommitted', listener);
      raft.off('peerChange', listener);
    };
  };
}

/**
 * Resolves once `condition` holds; fails `open()` with `TIMEOUT` at `deadline`. Checks again on
 * every `wake`, and every 10 ms for what no event announces (entries applied to the state machine).
 */
export async function waitUntil(
  clock: Clock,
  condition: () => boolean,
  deadline: number,
  what: string,
  wake?: Wake,
): Promise<void> {
  if (condition()) return;
  let woken: (() => void) | null = null;
  const unsubscribe = wake?.(() => woken?.());
  try {
    do {
      if (clock.now() >= deadline) throw new RaftError('TIMEOUT', `open: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(resolve, 10);
        woken = () => {
          clock.clearTimeout(timer);
          resolve();
        };
      });
      woken = null;
    } while (!condition());
  } finally {
    unsubscribe?.();
  }
}

/** What {@link leaveGroup} needs of the closing binding. */
export interface LeaveContext {
  readonly raft: Raft;
  /** Null once the store is closed: nothing is recorded then. */
  readonly storage: RaftStorage | null;
  readonly id: string;
  readonly deadline: number;
  readonly clock: Clock;
}

/**
 * Leaves the group by the deadline: a leader hands over leadership first, then the member asks to
 * be removed. Records the removal around it, so that a restart rejoins instead of waiting as a
 * voter the group no longer has.
 */
export async function leaveGroup(ctx: LeaveContext): Promise<void> {
  const { raft, storage, id, deadline, clock } = ctx;
  const timeoutMs = () => Math.max(1, deadline - clock.now());
  if (raft.state() === 'leader') {
    await raft.leadershipTransfer(undefined, { timeoutMs: timeoutMs() }).catch(() => undefined);
  }
  // A crash after our removal commits and before the record below would bring us back as a
  // voter the group no longer has, waiting forever for a leader: record first that we are
  // leaving, with a lower bound of the removal's index (it lands above everything committed
  // now), so that a restart rejoins.
  if (storage !== null) await Raft.recordRemoval(storage, raft.stats().commitIndex + 1);
  const { index } = await raft.removeServer(id, { timeoutMs: timeoutMs() });
  // The leader stops sending to us once it appends our removal, so our log may never hold
  // it: record it, or a restart would campaign on the old configuration instead of rejoining.
  if (storage !== null) await Raft.recordRemoval(storage, index);
}
