/**
 * The voter budget: how many voters a group keeps however many members join (`voters`). The
 * quorum is a majority of the voters, and every commit waits for that many disks, so a fleet of
 * dozens of members keeps a few voters (etcd advises 3 to 7) and lets the rest replicate as
 * non-voters. The budget and the members that may vote ("eligible": joined with role `voter`) are
 * group settings in the replicated state, so whichever member leads applies the same rules.
 *
 * The leader keeps the budget filled (Raft thesis §4.2.1 on adding servers as non-voters first):
 * it promotes the healthiest eligible non-voter while voters are missing, and replaces a voter lost
 * for `voterLossTimeout` by promoting first and demoting the lost voter after, so the group's
 * fault tolerance never drops on the way (see {@link voterBudgetDecision}).
 */
import { votersOf } from '../core/configuration.js';
import type { NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { ChoreView } from './leader-chore.js';
import { votingProblem, withoutVote } from './member-rules.js';
import type { SettingInput } from './proposal.js';

/** The setting that holds the budget: an unsigned integer, one byte per decimal digit (ASCII). */
export const VOTERS_SETTING = 'voters';
/** Largest budget: more voters than this only slows commits and elections down. */
export const MAX_VOTERS = 15;

/** The setting whose presence makes member `id` eligible to vote. */
export function eligibleSetting(id: NodeId): string {
  return `eligible/${id}`;
}

/**
 * The setting input that sets the budget to `voters`.
 *
 * @throws RaftError `INVALID_INPUT` unless `voters` is an integer from 1 to {@link MAX_VOTERS}.
 */
export function budgetInput(voters: number): SettingInput {
  if (!Number.isSafeInteger(voters) || voters < 1 || voters > MAX_VOTERS) {
    throw new RaftError('INVALID_INPUT', `voters: must be an integer from 1 to ${MAX_VOTERS}`);
  }
  return { op: 'setting', key: VOTERS_SETTING, value: new TextEncoder().encode(String(voters)) };
}

/** The setting input that makes `id` eligible to vote. */
export function eligibleInput(id: NodeId): SettingInput {
  return { op: 'setting', key: eligibleSetting(id), value: new Uint8Array() };
}

/** The budget held in a `voters` setting, or null for none or a value that is not a budget. */
export function decodeBudget(value: Uint8Array | undefined): number | null {
  if (value === undefined) return null;
  const text = new TextDecoder().decode(value);
  const voters = Number(text);
  return /^[1-9][0-9]?$/.test(text) && voters <= MAX_VOTERS ? voters : null;
}

/** What the leader knows when it keeps the budget: the chore's view of the followers, and the rules. */
export interface BudgetView
  extends Pick<ChoreView, 'config' | 'now' | 'lastContact' | 'watchedSince' | 'matchIndex'> {
  /** The leader itself: never lost. */
  readonly self: NodeId;
  readonly budget: number;
  /** True when `id` joined as a voter-to-be (not an observer). */
  readonly eligible: (id: NodeId) => boolean;
  /** Silent this long: a lost voter, to be replaced. */
  readonly lossAfterMs: number;
  /** Heard from within this long: live. */
  readonly liveWithinMs: number;
}

/**
 * Entries by which one non-voter may trail another and still count as just as far in the log. A
 * non-voter answers appends at most every few ticks or every quarter of the leader's in-flight
 * window (the core's AckPacer, 64 appends by default), so the leader's match index for it lags
 * by up to that much: within it, which one looks further is the pacing's noise, not health.
 */
export const CAUGHT_UP_SLACK = 64;

/** One membership change to make, and why. */
export type BudgetAction =
  | { readonly change: 'promote'; readonly id: NodeId; readonly reason: string }
  | { readonly change: 'demote'; readonly id: NodeId; readonly reason: string };

/**
 * The next change that brings the voters to the budget, or null. Each step keeps the fault
 * tolerance (live voters beyond a majority) or raises it: promoting a live member adds one live
 * voter and at most one to the majority; demoting a lost voter removes one that is not live and
 * never raises the majority. Voters over the budget that are all live are kept: demoting a healthy
 * voter is an operator's choice (`demote`), not the leader's.
 */
export function voterBudgetDecision(view: BudgetView): BudgetAction | null {
  const { config } = view;
  // A staging member is a promotion under way: one change at a time.
  if (config.servers.some((s) => s.suffrage === 'staging')) return null;
  const live = new Set<NodeId>([view.self]);
  for (const s of config.servers) {
    const heard = view.lastContact(s.id);
    if (heard !== null && view.now - heard <= view.liveWithinMs) live.add(s.id);
  }
  const silentFor = (id: NodeId): number =>
    view.now - Math.max(view.lastContact(id) ?? Number.NEGATIVE_INFINITY, view.watchedSince(id));
  const voters = votersOf(config);
  const lost = voters
    .filter((id) => id !== view.self && silentFor(id) >= view.lossAfterMs)
    .sort((a, b) => silentFor(b) - silentFor(a) || (a < b ? -1 : 1));
  // The healthiest: live, then caught up (within CAUGHT_UP_SLACK of the furthest), then by id.
  const eligible = config.servers
    .filter((s) => s.suffrage === 'nonvoter' && live.has(s.id) && view.eligible(s.id))
    .map((s) => s.id);
  const furthest = Math.max(0, ...eligible.map((id) => view.matchIndex(id)));
  const behind = (id: NodeId): number => Math.max(0, furthest - CAUGHT_UP_SLACK - view.matchIndex(id));
  const candidates = eligible.sort((a, b) => behind(a) - behind(b) || (a < b ? -1 : 1));
  const best = candidates[0];
  if (best !== undefined && voters.length < view.budget) {
    return { change: 'promote', id: best, reason: `${voters.length} of ${view.budget} voters` };
  }
  const gone = lost[0];
  if (gone === undefined) return null;
  if (best !== undefined && voters.length <= view.budget) {
    return { change: 'promote', id: best, reason: `to replace lost voter ${gone}` };
  }
  if (voters.length > view.budget && votingProblem(withoutVote(config, gone, 'demote'), live) === null) {
    return { change: 'demote', id: gone, reason: `lost for ${silentFor(gone)} ms, replaced` };
  }
  return null;
}
