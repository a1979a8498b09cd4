/**
 * Member management for {@link RaftBinding}: the members with their role and health, and the
 * changes an operator makes (remove, add a non-voter, promote, demote, hand over leadership),
 * each checked against the guard rails of member-rules.ts before it is proposed.
 */
import { type Clock, sleep } from '../clock.js';
import { suffrageOf } from '../core/configuration.js';
import type { Configuration, NodeId, Suffrage } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { Raft } from '../node/raft.js';
import { checkTimeout } from '../retry.js';
import { toleranceWarnings, votingProblem, withoutVote } from './member-rules.js';

/** Every suffrage a member can have: the calls that act on any member accept these. */
const MEMBER: readonly Suffrage[] = ['voter', 'nonvoter', 'staging'];

/** How a member is doing, as the leader sees it. */
export interface MemberHealth {
  /** Milliseconds since the leader last heard from it (0 for the leader); null when never. */
  readonly lastContactMs: number | null;
  /** The highest log index known to match the leader's. */
  readonly matchIndex: number;
  /** Entries it is behind the leader's last index. */
  readonly lag: number;
}

/** One member of the latest configuration. */
export interface MemberInfo {
  readonly id: NodeId;
  /** `staging`: added as a voter, it votes once it has caught up with the leader. */
  readonly role: Suffrage;
  readonly leader: boolean;
  /** Known on the leader only (followers do not track each other): null elsewhere. */
  readonly health: MemberHealth | null;
}

/** Limits of a membership call. */
export interface MemberCallOptions {
  /** Give up after this long; defaults to the binding's `rpcTimeout`. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of {@link MemberAdmin.remove}. */
export interface RemoveMemberOptions extends MemberCallOptions {
  /** Remove even when the voters left would not have a live majority (the group then stops). */
  force?: boolean;
}

/** A membership change that committed, and what the operator should know about the group now. */
export interface MemberChangeResult {
  /** The log index of the new configuration. */
  readonly index: number;
  /** Such as a group left without fault tolerance. */
  readonly warnings: readonly string[];
}

/** What the admin needs of its binding. */
export interface MemberAdminContext {
  /** The running node; throws `SHUTDOWN` or `REMOVED` as the binding's calls do. */
  readonly raft: () => Raft;
  readonly clock: Clock;
  readonly rpcTimeout: number;
  /** Heard from within this long: a live voter, for the guard rails. */
  readonly liveWithinMs: number;
}

/** The member calls of one binding. */
export class MemberAdmin {
  constructor(private readonly ctx: MemberAdminContext) {}

  /** The members of the latest configuration (in force once appended, thesis §4.1), in id order. */
  list(): MemberInfo[] {
    const raft = this.ctx.raft();
    const { configuration } = raft.getConfiguration();
    const leader = raft.leader();
    const health = this.healthById(raft);
    return [...configuration.servers]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((s) => ({
        id: s.id,
        role: s.suffrage,
        leader: s.id === leader,
        health: health?.get(s.id) ?? null,
      }));
  }

  /**
   * Removes `id`, live or dead. Refused (`INVALID_INPUT`) for an id that is not a member, for this
   * member itself (close it to leave), for the last voter, and (on the leader, which knows who is
   * live) when the voters left would not have a live majority, unless `force`.
   */
  async remove(id: NodeId, options: RemoveMemberOptions = {}): Promise<MemberChangeResult> {
    const raft = this.ctx.raft();
    const config = this.configFor(raft, 'removeMember', id, MEMBER);
    if (id === raft.id) {
      throw new RaftError(
        'INVALID_INPUT',
        `removeMember: ${id} is this member; close it to leave the group, or remove it through another member`,
      );
    }
    const warnings = this.checkVoteLoss(raft, config, id, 'remove', options.force === true);
    const { index } = await raft.removeServer(id, this.callOptions('removeMember', options));
    return { index, warnings };
  }

  /** Adds `id` as a non-voter: it receives the log but never votes. */
  async addNonvoter(id: NodeId, options: MemberCallOptions = {}): Promise<MemberChangeResult> {
    const raft = this.ctx.raft();
    if (typeof id !== 'string' || id === '') {
      throw new RaftError('INVALID_INPUT', 'addNonvoter: id must be a non-empty string');
    }
    this.configFor(raft, 'addNonvoter', id, [undefined]);
    const { index } = await raft.addNonvoter(id, this.callOptions('addNonvoter', options));
    return { index, warnings: [] };
  }

  /** Makes non-voter `id` a voter: it stages until it has caught up with the leader, then votes. */
  async promote(id: NodeId, options: MemberCallOptions = {}): Promise<MemberChangeResult> {
    const raft = this.ctx.raft();
    this.configFor(raft, 'promote', id, ['nonvoter']);
    const { index } = await raft.addVoter(id, this.callOptions('promote', options));
    return { index, warnings: [] };
  }

  /** Makes voter `id` (this member too) a non-voter, with the guard rails of {@link remove}. */
  async demote(id: NodeId, options: RemoveMemberOptions = {}): Promise<MemberChangeResult> {
    const raft = this.ctx.raft();
    const config = this.configFor(raft, 'demote', id, ['voter', 'staging']);
    const warnings = this.checkVoteLoss(raft, config, id, 'demote', options.force === true);
    const { index } = await raft.demoteVoter(id, this.callOptions('demote', options));
    return { index, warnings };
  }

  /**
   * On the leader, hands leadership to voter `id`, or to the most up-to-date voter when omitted
   * (thesis §3.10), and resolves with the new leader once one is known here (null if none is
   * known by the deadline). Other members refuse with `NOT_LEADER` naming the leader.
   */
  async transferLeadership(id?: NodeId, options: MemberCallOptions = {}): Promise<{ leader: NodeId | null }> {
    const raft = this.ctx.raft();
    const callOptions = this.callOptions('transferLeadership', options);
    if (
      id !== undefined &&
      suffrageOf(this.configFor(raft, 'transferLeadership', id, MEMBER), id) !== 'voter'
    ) {
      throw new RaftError('INVALID_INPUT', `transferLeadership: ${id} is not a voter`);
    }
    if (raft.state() !== 'leader') {
      throw new RaftError(
        'NOT_LEADER',
        `transferLeadership: ${raft.id} does not lead; ask the leader (${raft.leader() ?? 'none known'})`,
        { leader: raft.leader() },
      );
    }
    if (id === raft.id) return { leader: raft.id };
    const deadline = this.ctx.clock.now() + callOptions.timeoutMs;
    await raft.leadershipTransfer(id, callOptions);
    // This node stops leading when its successor campaigns; it learns the winner a moment later.
    const settled = () => raft.leader() !== null && raft.leader() !== raft.id;
    while (!settled() && this.ctx.clock.now() < deadline && options.signal?.aborted !== true) {
      await sleep(this.ctx.clock, 10);
    }
    return { leader: settled() ? raft.leader() : null };
  }

  /** On the leader, each member's health by id; null elsewhere. */
  private healthById(raft: Raft): Map<NodeId, MemberHealth> | null {
    const followers = raft.followerProgress();
    if (followers === null) return null;
    const now = this.ctx.clock.now();
    const last = raft.stats().lastLogIndex;
    const health = new Map<NodeId, MemberHealth>([[raft.id, { lastContactMs: 0, matchIndex: last, lag: 0 }]]);
    for (const f of followers) {
      health.set(f.id, {
        lastContactMs: f.lastContact === null ? null : Math.max(0, now - f.lastContact),
        matchIndex: f.matchIndex,
        lag: Math.max(0, last - f.matchIndex),
      });
    }
    return health;
  }

  /** The live voters and other members, on the leader; null elsewhere (it cannot know). */
  private liveMembers(raft: Raft): Set<NodeId> | null {
    const health = this.healthById(raft);
    if (health === null) return null;
    const live = new Set<NodeId>();
    for (const [id, h] of health) {
      if (h.lastContactMs !== null && h.lastContactMs <= this.ctx.liveWithinMs) live.add(id);
    }
    return live;
  }

  /** The latest configuration, where `id` must have one of the suffrages `what` `accepts`. */
  private configFor(
    raft: Raft,
    what: string,
    id: NodeId,
    accepts: ReadonlyArray<Suffrage | undefined>,
  ): Configuration {
    const { configuration } = raft.getConfiguration();
    const current = suffrageOf(configuration, id);
    if (accepts.includes(current)) return configuration;
    throw new RaftError(
      'INVALID_INPUT',
      current === undefined
        ? `${what}: ${id} is not a member of the group`
        : `${what}: ${id} is already a ${current}`,
    );
  }

  /** Refuses a vote loss that {@link votingProblem} forbids; returns the warnings it deserves. */
  private checkVoteLoss(
    raft: Raft,
    config: Configuration,
    id: NodeId,
    how: 'remove' | 'demote',
    force: boolean,
  ): string[] {
    const next = withoutVote(config, id, how);
    const live = this.liveMembers(raft);
    if (votingProblem(next, null) !== null) {
      throw new RaftError('INVALID_INPUT', `${how} ${id}: ${id} is the last voter; the group needs one`);
    }
    const problem = votingProblem(next, live);
    if (problem !== null && !force) {
      throw new RaftError('INVALID_INPUT', `${how} ${id}: ${problem}; force it to ${how} anyway`);
    }
    // A non-voter's removal changes nobody's vote: nothing to warn about.
    return suffrageOf(config, id) === 'nonvoter' ? [] : toleranceWarnings(next, live);
  }

  private callOptions(what: string, options: MemberCallOptions): { timeoutMs: number; signal?: AbortSignal } {
    checkTimeout(what, options.timeoutMs);
    const timeoutMs = options.timeoutMs ?? this.ctx.rpcTimeout;
    return options.signal === undefined ? { timeoutMs } : { timeoutMs, signal: options.signal };
  }
}
