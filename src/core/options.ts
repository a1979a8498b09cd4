import { RaftError } from '../errors.js';
import type { RandomSource } from './random.js';
import type { NodeId } from './types.js';

/** Tuning of the pure core. Time is counted in ticks; the runtime decides how long a tick is. */
export interface CoreOptions {
  /** This server's id. */
  id: NodeId;
  /** Injected randomness for election timeouts; seed it for reproducible simulations. */
  random: RandomSource;
  /** Base election timeout; each wait is drawn from [electionTicks, 2 × electionTicks). Default 10. */
  electionTicks?: number;
  /** Ticks between leader heartbeats; must be below `electionTicks`. Default 1. */
  heartbeatTicks?: number;
  /** Run a pre-vote round before incrementing the term (thesis §9.6). Default true. */
  preVote?: boolean;
  /**
   * Leaders step down when a quorum has not been heard from within an election timeout, and a
   * leader, or a follower that recently heard from one, ignores vote requests of higher terms
   * (thesis §6.2, §4.2.3), so a partitioned or removed server cannot depose it. Default true.
   */
  checkQuorum?: boolean;
  /** Unacknowledged AppendEntries per follower in the replicate state. Default 256. */
  maxInflight?: number;
  /** Entries per AppendEntries. Default 64. */
  maxEntriesPerMessage?: number;
  /** Approximate bytes per AppendEntries (one oversized entry is still sent alone). Default 1 MiB. */
  maxBytesPerMessage?: number;
  /** Committed entries handed out per Ready, so one Ready never grows unbounded. Default 1024. */
  maxApplyPerReady?: number;
  /** Entries kept in the log behind a snapshot, so slightly slow followers avoid a snapshot. Default 10240. */
  trailingEntries?: number;
  /** A staging server is promoted to voter once it is at most this many entries behind. Default 64. */
  maxPromotionLag?: number;
  /**
   * A non-voter answers its leader's appends at most once every this many ticks (or sooner, once
   * a quarter of `maxInflight` answers are waiting); see `AckPacer`. Default 3, or a third of
   * `electionTicks` (at least 1) when that is less.
   */
  nonvoterAckTicks?: number;
  /**
   * How often a leader checks that it heard from a quorum (check-quorum). Defaults to
   * `electionTicks`; the node sets it from hashicorp's leader lease.
   */
  leaderLeaseTicks?: number;
}

/** The default of `maxBytesPerMessage`, which the node keeps: receivers bound AppendEntries by it. */
export const DEFAULT_MAX_BYTES_PER_MESSAGE = 1024 * 1024;

/** {@link CoreOptions} with every default filled in. */
export type ResolvedCoreOptions = Required<CoreOptions>;

const positiveIntegers = [
  'electionTicks',
  'heartbeatTicks',
  'maxInflight',
  'maxEntriesPerMessage',
  'maxBytesPerMessage',
  'maxApplyPerReady',
  'leaderLeaseTicks',
  'nonvoterAckTicks',
] as const;

/** Fills in defaults and rejects invalid options with an `INVALID_CONFIG` error naming the field. */
export function resolveCoreOptions(options: CoreOptions): ResolvedCoreOptions {
  const resolved: ResolvedCoreOptions = {
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    maxInflight: 256,
    maxEntriesPerMessage: 64,
    maxBytesPerMessage: DEFAULT_MAX_BYTES_PER_MESSAGE,
    maxApplyPerReady: 1024,
    trailingEntries: 10240,
    maxPromotionLag: 64,
    ...options,
    leaderLeaseTicks: options.leaderLeaseTicks ?? options.electionTicks ?? 10,
    // At least three answers per election timeout: whoever judges liveness by an election timeout
    // of silence (the node's member health, the voter budget) always hears a live non-voter.
    nonvoterAckTicks:
      options.nonvoterAckTicks ?? Math.max(1, Math.min(3, Math.floor((options.electionTicks ?? 10) / 3))),
  };
  if (typeof resolved.id !== 'string' || resolved.id === '') {
    throw new RaftError('INVALID_CONFIG', 'id: must be a non-empty string');
  }
  for (const key of positiveIntegers) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < 1) {
      throw new RaftError('INVALID_CONFIG', `${key}: must be a positive integer (got ${value})`);
    }
  }
  for (const key of ['trailingEntries', 'maxPromotionLag'] as const) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < 0) {
      throw new RaftError('INVALID_CONFIG', `${key}: must be a non-negative integer (got ${value})`);
    }
  }
  if (resolved.heartbeatTicks >= resolved.electionTicks) {
    throw new RaftError(
      'INVALID_CONFIG',
      `heartbeatTicks: must be below electionTicks (${resolved.heartbeatTicks} >= ${resolved.electionTicks})`,
    );
  }
  return resolved;
}
