import { z } from 'zod';
import { RaftError } from '../errors.js';
import { isLogger, type Logger, silentLogger } from '../logger.js';
import type { RaftMetrics } from '../metrics/raft-metrics.js';
import { type GroupKeyInput, groupKeyProblem } from '../transport/group-key.js';
import type { MqttTlsOptions } from '../transport/mqtt-options.js';

const groupKey = z.custom<GroupKeyInput>().superRefine((key, ctx) => {
  const problem = groupKeyProblem(key);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

/**
 * Options of a {@link RaftBinding}. Durations are in milliseconds; the defaults follow DDA's Raft
 * binding where it has one.
 */
export const BindingOptionsSchema = z.object({
  /** Stable member id; also its transport address. No `/`, `+`, `#` or control characters. */
  id: z.string().min(1, 'must be a non-empty string'),
  /** The MQTT broker, e.g. `mqtt://127.0.0.1:1883`. */
  broker: z.string().min(1, 'must be a broker URL such as mqtt://127.0.0.1:1883'),
  /** Isolates groups that share a broker. */
  cluster: z.string().min(1, 'must be a non-empty string').default('default'),
  /** LevelDB directory; `''` keeps everything in memory. */
  store: z.string().default(''),
  /** Exactly one member creates the group, on a fresh store. */
  bootstrap: z.boolean().default(false),
  /**
   * `voter` (default) joins to vote in elections and count towards commits. `observer` joins as
   * a non-voter: it replicates the state and observes every change, and forwards its proposals,
   * but never votes, never leads and is not waited for: the quorum and its disk waits stay those
   * of the voters however many observers join (README, "Voters and observers").
   */
  role: z.enum(['voter', 'observer']).default('voter'),
  /**
   * The group's voter budget, 1 to 15 (README, "Voters and observers"): members with role `voter`
   * beyond it stay non-voters, and the leader promotes the healthiest of them when a voter is
   * missing or lost for `voterLossTimeout`. The bootstrap member writes it into the replicated
   * state, where it holds for the whole group, whatever the options of the members that join.
   * Default: none (every voter takes its vote as it joins).
   */
  voters: z.number().int().min(1, 'must be from 1 to 15').max(15, 'must be from 1 to 15').optional(),
  /** With a voter budget: a voter silent this long is replaced by a non-voter (at least `electionTimeout`). */
  voterLossTimeout: z.number().int().min(1, 'must be at least 1 ms').default(30_000),
  username: z.string().optional(),
  password: z.string().optional(),
  /**
   * TLS for `mqtts:`/`wss:` brokers: `ca`, `cert`, `key` (PEM), `servername`, `rejectUnauthorized`
   * (default true). Checked in detail by the transport.
   */
  tls: z
    .custom<MqttTlsOptions>(
      (v) => typeof v === 'object' && v !== null && !Array.isArray(v),
      'must be an object',
    )
    .optional(),
  /**
   * The group's shared 32-byte secret (bytes, 64 hex digits or base64): every envelope is sealed
   * with it (docs/security.md, "Sealed envelopes"). Default: the keys in `MQTT_RAFT_GROUP_KEY`
   * (comma-separated, the first seals), else none: the group is then unauthenticated.
   */
  groupKey: groupKey.optional(),
  /** Keys that still open envelopes, never seal: the old key during a rotation. Needs `groupKey`. */
  previousGroupKeys: z.array(groupKey).max(8, 'must hold at most 8 keys').optional(),
  /** A follower that hears nothing from a leader this long starts an election. */
  heartbeatTimeout: z.number().int().min(5, 'must be at least 5 ms').default(1000),
  /** A candidate that wins no election this long tries again. */
  electionTimeout: z.number().int().min(5, 'must be at least 5 ms').default(1000),
  /** Default deadline of proposals and reads that have none of their own. */
  rpcTimeout: z.number().int().min(1, 'must be at least 1 ms').default(1000),
  /** How long `open()` may take to restart or join. */
  startupTimeout: z.number().int().min(1, 'must be at least 1 ms').default(10_000),
  /**
   * How long, at least, `open()` listens for live members on the broker first: to refuse an id
   * that another live process uses, and a second bootstrap; a joining member waits on for the
   * first answer. The window stretches to four broker round trips when the broker is far.
   */
  probeTimeout: z.number().int().min(1, 'must be at least 1 ms').default(100),
  /**
   * Where the member logs what it does (role changes, elections, membership changes, snapshots,
   * dropped messages, broker connection loss and recovery, fail-stops); pino-compatible. Default:
   * nothing is logged.
   */
  logger: z.custom<Logger>(isLogger, 'must have debug, info, warn and error methods').default(silentLogger),
  /**
   * Prometheus metrics of this member's Raft node and MQTT transport (docs/operations.md): the
   * binding reports into it while open. Default: none.
   */
  // Checked by shape: an instanceof check would load prom-client with every binding.
  metrics: z
    .custom<RaftMetrics>(
      (v) => typeof v === 'object' && v !== null && typeof (v as RaftMetrics).observe === 'function',
      'must be a RaftMetrics',
    )
    .optional(),
  /** How long `close()` may spend handing over leadership and leaving. */
  closeTimeout: z.number().int().min(1, 'must be at least 1 ms').default(5000),
  snapshotInterval: z.number().int().min(5, 'must be at least 5 ms').default(120_000),
  snapshotThreshold: z.number().int().min(1, 'must be at least 1').default(8192),
  trailingLogs: z.number().int().min(0, 'must not be negative').default(10240),
  /**
   * Off when absent. The leader removes a member it has not heard from for this long, one at a
   * time, and never a voter whose removal would leave the voters without a live majority. At
   * least `electionTimeout`; in practice minutes, longer than any planned restart.
   */
  deadMemberTimeout: z.number().int().min(1, 'must be at least 1 ms').optional(),
  /** Changes an observer may have queued before it is ended with `OBSERVER_OVERFLOW`. */
  observerQueueLimit: z.number().int().min(1, 'must be at least 1').default(10_000),
});

/** What callers pass: `id` and `broker` are required. */
export type BindingOptions = z.input<typeof BindingOptionsSchema>;
/** Options with defaults applied. */
export type ResolvedBindingOptions = z.output<typeof BindingOptionsSchema>;

/** Validates options; an invalid field throws `INVALID_CONFIG` naming the field and the rule. */
export function parseBindingOptions(options: BindingOptions): ResolvedBindingOptions {
  const result = BindingOptionsSchema.safeParse(options);
  if (result.success) {
    const o = result.data;
    if ((o.username === undefined) !== (o.password === undefined)) {
      throw new RaftError('INVALID_CONFIG', 'password: username and password go together');
    }
    if (o.bootstrap && o.role === 'observer') {
      throw new RaftError('INVALID_CONFIG', 'role: the member that bootstraps a group must be a voter');
    }
    if ((o.previousGroupKeys?.length ?? 0) > 0 && o.groupKey === undefined) {
      throw new RaftError('INVALID_CONFIG', 'previousGroupKeys: needs groupKey');
    }
    if (o.voterLossTimeout < o.electionTimeout) {
      throw new RaftError(
        'INVALID_CONFIG',
        `voterLossTimeout: must be at least electionTimeout (${o.electionTimeout} ms)`,
      );
    }
    if (o.deadMemberTimeout !== undefined && o.deadMemberTimeout < o.electionTimeout) {
      throw new RaftError(
        'INVALID_CONFIG',
        `deadMemberTimeout: must be at least electionTimeout (${o.electionTimeout} ms)`,
      );
    }
    return o;
  }
  const issue = result.error.issues[0];
  throw new RaftError(
    'INVALID_CONFIG',
    `${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`,
    {
      cause: result.error,
    },
  );
}
