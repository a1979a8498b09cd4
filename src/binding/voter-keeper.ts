/** The leader's side of the voter budget (voter-budget.ts): promotions and demotions, one at a time. */
import type { Clock } from '../clock.js';
import type { NodeId } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { Raft } from '../node/raft.js';
import { type ChoreView, LeaderChore } from './leader-chore.js';
import { voterBudgetDecision } from './voter-budget.js';

/** What the keeper needs. */
export interface VoterKeeperOptions {
  readonly raft: Raft;
  readonly clock: Clock;
  /** The group's budget, from the replicated settings; null while it has none. */
  readonly budget: () => number | null;
  /** True when `id` joined as a voter-to-be (an eligible setting exists for it). */
  readonly eligible: (id: NodeId) => boolean;
  /** Silent this long: a lost voter, replaced. */
  readonly lossAfterMs: number;
  /** Heard from within this long: live. */
  readonly liveWithinMs: number;
  readonly logger?: Logger | undefined;
}

/** Keeps the voters at the group's budget while this node leads; stop the chore it returns. */
export function startVoterKeeper(options: VoterKeeperOptions): LeaderChore {
  const { raft, logger } = options;
  const step = (view: ChoreView): Promise<unknown> | null => {
    const budget = options.budget();
    if (budget === null || !view.settled) return null;
    const action = voterBudgetDecision({
      config: view.config,
      self: raft.id,
      budget,
      now: view.now,
      lastContact: view.lastContact,
      watchedSince: view.watchedSince,
      matchIndex: view.matchIndex,
      eligible: options.eligible,
      lossAfterMs: options.lossAfterMs,
      liveWithinMs: options.liveWithinMs,
    });
    if (action === null) return null;
    // prevIndex: the decision holds for this configuration only; a change meanwhile refuses it.
    const change = { prevIndex: view.index, timeoutMs: options.lossAfterMs };
    const made =
      action.change === 'promote' ? raft.addVoter(action.id, change) : raft.demoteVoter(action.id, change);
    return made.then(
      ({ index }) =>
        logger?.info(
          { localId: raft.id, member: action.id, index },
          `voter budget: ${action.change}d ${action.id} (${action.reason})`,
        ),
      (err: unknown) =>
        logger?.warn(
          { localId: raft.id, member: action.id },
          `voter budget: could not ${action.change} ${action.id}: ${(err as Error)?.message ?? err}`,
        ),
    );
  };
  const everyMs = Math.max(10, Math.min(1000, Math.floor(options.liveWithinMs / 4)));
  return new LeaderChore({ raft, clock: options.clock, everyMs, step });
}
