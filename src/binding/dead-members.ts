/**
 * Automatic removal of dead members (`deadMemberTimeout`, in the spirit of Consul's autopilot): the
 * leader removes a member it has not heard from for that long, one at a time, and never a voter
 * whose removal would leave the voters without a live majority (member-rules.ts).
 */
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Raft } from '../node/raft.js';
import { type ChoreView, LeaderChore } from './leader-chore.js';
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

/** Looks for dead members while this node leads, and removes them; stop the chore it returns. */
export function startDeadMemberReaper(options: DeadMemberReaperOptions): LeaderChore {
  const { raft, logger } = options;
  let lastKept = '';
  const step = (view: ChoreView): Promise<unknown> | null => {
    const decision = deadMemberDecision({
      config: view.config,
      self: raft.id,
      now: view.now,
      lastContact: view.lastContact,
      watchedSince: view.watchedSince,
      deadAfterMs: options.deadAfterMs,
      liveWithinMs: options.liveWithinMs,
    });
    // Said once per change of what is kept, not at every check.
    const kept = decision.kept.map((k) => `${k.id}: ${k.reason}`).join('; ');
    if (kept !== lastKept && kept !== '') logger?.warn({ localId: raft.id }, `dead members kept: ${kept}`);
    lastKept = kept;
    const dead = decision.remove;
    if (dead === null) return null;
    // prevIndex: the decision holds for this configuration only; a change meanwhile refuses it.
    return raft.removeServer(dead, { prevIndex: view.index, timeoutMs: options.deadAfterMs }).then(
      ({ index: at }) =>
        logger?.warn(
          { localId: raft.id, member: dead, index: at },
          `removed dead member ${dead} (silent for ${options.deadAfterMs} ms)`,
        ),
      (err: unknown) =>
        logger?.warn(
          { localId: raft.id, member: dead },
          `could not remove dead member ${dead}: ${(err as Error)?.message ?? err}`,
        ),
    );
  };
  // A quarter of the timeout (at most a second): a dead member goes soon after it qualifies.
  const everyMs = Math.max(10, Math.min(1000, Math.floor(options.deadAfterMs / 4)));
  return new LeaderChore({ raft, clock: options.clock, everyMs, step });
}
