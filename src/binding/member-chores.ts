/** The leader's membership chores of a binding: dead-member removal when asked for, and the voter budget. */
import type { Clock } from '../clock.js';
import type { Raft } from '../node/raft.js';
import { startDeadMemberReaper } from './dead-members.js';
import type { LeaderChore } from './leader-chore.js';
import type { ResolvedBindingOptions } from './options.js';
import { decodeBudget, eligibleSetting, VOTERS_SETTING } from './voter-budget.js';
import { startVoterKeeper } from './voter-keeper.js';

/**
 * Starts the chores on `raft` (they act only while it leads); stop each on close. The voter keeper
 * runs on every member: any member may set a budget later, and any may lead then.
 */
export function startMemberChores(
  raft: Raft,
  o: ResolvedBindingOptions,
  clock: Clock,
  setting: (key: string) => Uint8Array | undefined,
): LeaderChore[] {
  const chores: LeaderChore[] = [];
  if (o.deadMemberTimeout !== undefined) {
    chores.push(
      startDeadMemberReaper({
        raft,
        clock,
        deadAfterMs: o.deadMemberTimeout,
        liveWithinMs: o.electionTimeout,
        logger: o.logger,
      }),
    );
  }
  chores.push(
    startVoterKeeper({
      raft,
      clock,
      budget: () => decodeBudget(setting(VOTERS_SETTING)),
      eligible: (id) => setting(eligibleSetting(id)) !== undefined,
      lossAfterMs: o.voterLossTimeout,
      liveWithinMs: o.electionTimeout,
      logger: o.logger,
    }),
  );
  return chores;
}
