import { z } from 'zod';
import type { CoreOptions } from '../core/options.js';
import type { RandomSource } from '../core/random.js';
import { RaftError } from '../errors.js';

/**
 * Node configuration, with hashicorp/raft's defaults and validation rules. Durations are in
 * milliseconds. Time inside the core is counted in ticks of `heartbeatTimeout / 10`.
 */
export const RaftConfigSchema = z
  .object({
    /** This server's id; also its transport address. */
    localId: z.string().min(1, 'must be a non-empty string'),
    /** A follower that hears nothing from a leader this long (randomized up to 2×) starts an election. */
    heartbeatTimeout: z.number().int().min(5, 'must be at least 5 ms').default(1000),
    /** A candidate that wins no election this long (randomized up to 2×) starts another. */
    electionTimeout: z.number().int().min(5, 'must be at least 5 ms').default(1000),
    /** A leader that has not heard from a quorum this long steps down (check-quorum). */
    leaderLeaseTimeout: z.number().int().min(5, 'must be at least 5 ms').default(500),
    /**
     * hashicorp/raft's bound on how long followers may wait to learn the commit index when the
     * leader is idle. Accepted for compatibility: this leader sends a new commit index at once,
     * which meets any value.
     */
    commitTimeout: z.number().int().min(1, 'must be at least 1 ms').default(50),
    /** Entries per AppendEntries and per storage batch. */
    maxAppendEntries: z
      .number()
      .int()
      .min(1, 'must be at least 1')
      .max(1024, 'must be at most 1024')
      .default(64),
    /** Entries kept in the log behind a snapshot. */
    trailingLogs: z.number().int().min(0, 'must not be negative').default(10240),
    /** How often a snapshot is due, plus up to a quarter drawn anew after each snapshot. */
    snapshotInterval: z.number().int().min(5, 'must be at least 5 ms').default(120_000),
    /** Entries applied since the last snapshot before a new one is taken, plus up to a quarter drawn anew after each. */
    snapshotThreshold: z.number().int().min(1, 'must be at least 1').default(8192),
    /** Pre-vote (thesis §9.6): a partitioned server cannot inflate the term. */
    preVote: z.boolean().default(true),
    /** Followers forward apply, barrier and membership changes to the leader instead of failing with NOT_LEADER. */
    forwardToLeader: z.boolean().default(true),
    /** A staging server is promoted to voter once at most this many entries behind. */
    maxPromotionLag: z.number().int().min(0, 'must not be negative').default(64),
  })
  .superRefine((c, ctx) => {
    if (c.leaderLeaseTimeout > c.heartbeatTimeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['leaderLeaseTimeout'],
        message: `cannot be larger than heartbeatTimeout (${c.leaderLeaseTimeout} > ${c.heartbeatTimeout})`,
      });
    }
    if (c.electionTimeout < c.heartbeatTimeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['electionTimeout'],
        message: `must be at least heartbeatTimeout (${c.electionTimeout} < ${c.heartbeatTimeout})`,
      });
    }
  });

/** What callers pass: only `localId` is required. */
export type RaftConfigInput = z.input<typeof RaftConfigSchema>;
/** The validated configuration with defaults filled in. */
export type RaftConfig = z.output<typeof RaftConfigSchema>;

/** Validates `input`; an invalid field throws `INVALID_CONFIG` naming the field and the rule. */
export function parseRaftConfig(input: RaftConfigInput): RaftConfig {
  const result = RaftConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'config';
  throw new RaftError('INVALID_CONFIG', `${field}: ${issue?.message ?? 'invalid'}`, { cause: result.error });
}

/** The core's timing, derived from the node's: one tick is a tenth of the heartbeat timeout. */
export function coreTiming(config: RaftConfig): {
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  leaderLeaseTicks: number;
} {
  const tickMs = Math.max(1, Math.floor(config.heartbeatTimeout / 10));
  const electionTicks = Math.max(2, Math.round(config.electionTimeout / tickMs));
  const leaderLeaseTicks = Math.max(2, Math.round(config.leaderLeaseTimeout / tickMs));
  return { tickMs, electionTicks, heartbeatTicks: 1, leaderLeaseTicks };
}

/** The core's options for a node configured by `config`, drawing its election timeouts from `random`. */
export function coreOptions(config: RaftConfig, random: RandomSource): CoreOptions {
  const timing = coreTiming(config);
  return {
    id: config.localId,
    random,
    electionTicks: timing.electionTicks,
    heartbeatTicks: timing.heartbeatTicks,
    leaderLeaseTicks: timing.leaderLeaseTicks,
    preVote: config.preVote,
    maxEntriesPerMessage: config.maxAppendEntries,
    trailingEntries: config.trailingLogs,
    maxPromotionLag: config.maxPromotionLag,
  };
}
