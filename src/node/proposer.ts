import type { ConfChange } from '../core/membership.js';
import type { RaftCore } from '../core/raft.js';
import type { NodeId, Role } from '../core/types.js';
import { isRaftError, RaftError } from '../errors.js';
import type { ForwardRequest } from '../transport/types.js';
import { type CallOptions, withDeadline } from './deadline.js';
import { type ForwardClientContext, forwardToLeader } from './forwarding.js';
import type { PendingProposals } from './pending.js';

/** Options of a membership change. */
export interface ChangeOptions extends CallOptions {
  /** Apply only if the configuration in force is still the one at this index (hashicorp's prevIndex). */
  prevIndex?: number;
}

/** An operation's outcome: where it landed, and for `apply` the FSM's response. */
export interface Outcome {
  readonly index: number;
  readonly response?: unknown;
}

/** What the proposer needs from its node. */
export interface ProposerContext {
  readonly id: NodeId;
  readonly forwardToLeader: boolean;
  readonly role: () => Role;
  readonly run: <T>(task: (core: RaftCore) => T) => Promise<T>;
  readonly proposals: PendingProposals;
  readonly forwardClient: ForwardClientContext;
  readonly defaultTimeoutMs: number;
  /**
   * How long the leader waits for an operation another server forwarded. The sender's own
   * deadline is not on the wire, so this errs long: giving up early only turns a success into an
   * unknown outcome for the sender.
   */
  readonly forwardedTimeoutMs: number;
  /** How long to wait before retrying a change refused because another one is in progress. */
  readonly retryDelayMs: number;
}

/**
 * Turns proposals into promises: proposes in the node's loop, waits for the entry's fate, and
 * on a follower forwards to the leader. Also performs what other servers forward to this leader.
 */
export class Proposer {
  private seq = 0;

  constructor(private readonly ctx: ProposerContext) {}

  apply(data: Uint8Array, options: CallOptions): Promise<Outcome> {
    return this.viaLeader(
      () => this.propose('apply', (core) => core.propose(data), options),
      (seq) => ({ kind: 'apply', origin: this.ctx.id, seq, data }),
      options,
    );
  }

  barrier(options: CallOptions): Promise<Outcome> {
    return this.viaLeader(
      () => this.propose('barrier', (core) => core.propose(new Uint8Array(), 'barrier'), options),
      (seq) => ({ kind: 'barrier', origin: this.ctx.id, seq }),
      options,
    );
  }

  changeMembership(change: ConfChange, options: ChangeOptions): Promise<Outcome> {
    return this.viaLeader(
      () => this.changeLocally(change, options),
      (seq) => {
        const base = { kind: change.type, origin: this.ctx.id, seq, id: change.id };
        return options.prevIndex === undefined ? base : { ...base, prevIndex: options.prevIndex };
      },
      options,
    );
  }

  /** Performs a request another server forwarded to this one, as leader. */
  performForwarded(request: ForwardRequest): Promise<Outcome> {
    const options = { timeoutMs: this.ctx.forwardedTimeoutMs };
    switch (request.kind) {
      case 'apply':
        return this.propose('apply', (core) => core.propose(request.data), options);
      case 'barrier':
        return this.propose('barrier', (core) => core.propose(new Uint8Array(), 'barrier'), options);
      default: {
        const change: ConfChange = { type: request.kind, id: request.id };
        const withGuard =
          request.prevIndex === undefined ? options : { ...options, prevIndex: request.prevIndex };
        return this.changeLocally(change, withGuard);
      }
    }
  }

  /**
   * Runs `local` when this node leads; otherwise (or when it turns out not to lead) forwards the
   * request to the leader, when forwarding is on, until the deadline.
   */
  private async viaLeader(
    local: () => Promise<Outcome>,
    request: (seq: number) => ForwardRequest,
    options: CallOptions,
  ): Promise<Outcome> {
    const { forwardToLeader: forwarding } = this.ctx;
    const deadline = Date.now() + (options.timeoutMs ?? this.ctx.defaultTimeoutMs);
    for (;;) {
      if (!forwarding || this.ctx.role() === 'leader') {
        try {
          return await local();
        } catch (err) {
          if (!forwarding || !isRaftError(err, 'NOT_LEADER')) throw err;
        }
      }
      const outcome = await forwardToLeader(
        this.ctx.forwardClient,
        request(++this.seq),
        deadline,
        options.signal,
      );
      // This node won an election while it was looking for the leader: propose here.
      if (outcome !== 'becameLeader') return outcome;
    }
  }

  private async changeLocally(change: ConfChange, options: ChangeOptions): Promise<Outcome> {
    const full: ConfChange =
      options.prevIndex === undefined ? change : { ...change, prevIndex: options.prevIndex };
    const started = Date.now();
    const limit = options.timeoutMs ?? this.ctx.defaultTimeoutMs;
    // A change waits for the previous one to commit and for a new leader's first commit: retry
    // those refusals until the deadline instead of failing a call that will soon succeed.
    for (;;) {
      try {
        const remaining = Math.max(1, limit - (Date.now() - started));
        const { index } = await this.propose(
          `${change.type} ${change.id}`,
          (core) => core.proposeConfChange(full),
          {
            ...options,
            timeoutMs: remaining,
          },
        );
        return { index };
      } catch (err) {
        const retry = isRaftError(err, 'CONFIG_CHANGE_IN_PROGRESS') && Date.now() - started < limit;
        if (!retry || options.signal?.aborted) throw err;
        await new Promise((r) => setTimeout(r, this.ctx.retryDelayMs));
      }
    }
  }

  /** Proposes in the node's loop, then waits until the entry is applied here (or its fate is known). */
  private async propose(
    what: string,
    propose: (core: RaftCore) => ReturnType<RaftCore['propose']>,
    options: CallOptions,
  ): Promise<Outcome> {
    const { defaultTimeoutMs, proposals } = this.ctx;
    // A call that gives up before its turn in the loop must not propose after all (it reports a
    // definite failure); one that gives up after proposing reports an indefinite one.
    let phase: 'queued' | 'abandoned' | 'proposed' = 'queued';
    const result = await withDeadline(
      this.ctx.run((core) => {
        if (phase === 'abandoned') return null;
        phase = 'proposed';
        return propose(core);
      }),
      options,
      defaultTimeoutMs,
      what,
      () => phase === 'proposed',
      () => {
        if (phase === 'queued') phase = 'abandoned';
      },
    );
    if (result === null) throw new RaftError('TIMEOUT', `${what}: gave up before proposing`);
    if (!result.accepted) {
      throw new RaftError(result.code, `${what}: ${result.message}`, {
        leader: result.leader,
        retryable: result.code !== 'INVALID_INPUT' && result.code !== 'CONFIGURATION_CHANGED',
      });
    }
    return withDeadline(
      proposals.wait(result.index, result.term),
      options,
      defaultTimeoutMs,
      what,
      true,
      (err) => proposals.abandon(result.index, err),
    );
  }
}
