/** How an opening binding becomes a member of its group, once its node has started. */
import type { Clock } from '../clock.js';
import type { Raft } from '../node/raft.js';
import type { RaftStorage } from '../storage/types.js';
import { joinIfOutside, nodeEvents, takeVote, waitUntil } from './join.js';
import type { ResolvedBindingOptions } from './options.js';
import type { EntryInput } from './proposal.js';
import { budgetInput, decodeBudget, eligibleInput, eligibleSetting, VOTERS_SETTING } from './voter-budget.js';

/** What {@link enterGroup} needs of the opening binding. */
export interface EnterContext {
  readonly raft: Raft;
  readonly storage: RaftStorage;
  readonly options: ResolvedBindingOptions;
  /** True when the store held Raft state before this open. */
  readonly existing: boolean;
  readonly deadline: number;
  readonly clock: Clock;
  /** True when the newest committed configuration applied here lists `id`. */
  readonly isMember: (id: string) => boolean;
  /** A group setting as the replicated state holds it. */
  readonly setting: (key: string) => Uint8Array | undefined;
  /** Proposes `input` under the binding's session, within `timeoutMs`. */
  readonly propose: (input: EntryInput, timeoutMs: number) => Promise<unknown>;
}

/**
 * Makes the started node a member: a new group elects its only member and stores its budget; a
 * member outside the group joins it as a non-voter; a voter then takes its vote, at once or,
 * under the group's budget, when the leader has a seat for it.
 */
export async function enterGroup(ctx: EnterContext): Promise<void> {
  const { raft, options: o, deadline, clock } = ctx;
  const timeoutMs = () => Math.max(1, deadline - clock.now());
  // A new group elects its only member at once: wait, so proposals right after open() work.
  if (!ctx.existing && o.bootstrap) {
    await waitUntil(clock, () => raft.state() === 'leader', deadline, 'the first election', nodeEvents(raft));
    if (o.voters !== undefined) await ctx.propose(budgetInput(o.voters), timeoutMs());
  }
  await joinIfOutside({
    raft,
    storage: ctx.storage,
    id: o.id,
    existing: ctx.existing,
    bootstrap: o.bootstrap,
    deadline,
    clock,
    isMember: ctx.isMember,
  });
  if (o.role !== 'voter') return;
  await takeVote({
    raft,
    id: o.id,
    deadline,
    clock,
    budgeted: () => decodeBudget(ctx.setting(VOTERS_SETTING)) !== null,
    registerEligible: async () => {
      if (ctx.setting(eligibleSetting(o.id)) === undefined)
        await ctx.propose(eligibleInput(o.id), timeoutMs());
    },
  });
}
