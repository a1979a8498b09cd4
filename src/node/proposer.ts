import type { Clock } from '../clock.js';
import type { ConfChange } from '../core/membership.js';
import type { RaftCore } from '../core/raft.js';
import type { NodeId, Role } from '../core/types.js';
import { isRaftError, RaftError } from '../errors.js';
import { callPolicy, type RetryDefaults, type RetryPolicy, retry } from '../retry.js';
import type { ForwardOptions, ForwardRequest, Transport } from '../transport/types.js';
import { fromWire } from '../transport/wire-error.js';
import { type CallOptions, type DeadlineOptions, withDeadline } from './deadline.js';
import type { PendingProposals } from './pending.js';

/** Options of `apply`. */
export interface ApplyOptions extends CallOptions {
  /**
   * The FSM recognises a repeated `data` and applies it once (the binding's sessions do). The
   * node may then re-send it after an unknown outcome, for example to a new leader after the
   * old one died; without it such a call fails at once with an indefinite error.
   */
  idempotent?: boolean;
}

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
  readonly clock: Clock;
  /**
   * Random per process of this member (design §7): the leader keys what it remembers of forwarded
   * requests by it, so a restarted process never receives an answer meant for its predecessor.
   */
  readonly incarnation: string;
  readonly forwardToLeader: boolean;
  readonly role: () => Role;
  readonly leader: () => NodeId | null;
  readonly transport: Transport;
  readonly run: <T>(task: (core: RaftCore) => T) => Promise<T>;
  readonly proposals: PendingProposals;
  /** Deadlines and back-off of calls; `timeoutMs` is also the default wait of a single proposal. */
  readonly retry: RetryDefaults;
  /**
   * How long the leader waits for an operation another server forwarded. The sender's own
   * deadline is not on the wire, so this errs long: giving up early only turns a success into an
   * unknown outcome for the sender.
   */
  readonly forwardedTimeoutMs: number;
  /** How long an attempt of an idempotent call waits for an answer before it is sent again. */
  readonly resendAfterMs: number;
  /** Calls `listener` on every change of the leader known here; returns a function that stops it. */
  readonly onLeaderChange: (listener: (leader: NodeId | null) => void) => () => void;
}

/** What identifies a forwarded request to the leader's {@link ForwardServer}. */
interface RequestIds {
  readonly origin: NodeId;
  readonly incarnation: string;
  readonly seq: number;
}

/** One call as the proposer routes it: performed here when this node leads, else forwarded. */
interface Route {
  readonly what: string;
  readonly local: (options: CallOptions) => Promise<Outcome>;
  /** The request to forward, identified by `ids`. */
  readonly request: (ids: RequestIds) => ForwardRequest;
  readonly idempotent: boolean;
}

/**
 * Turns proposals into promises: proposes in the node's loop, waits for the entry's fate, and on
 * a follower forwards to the leader. Every call runs under one {@link retry} policy, which alone
 * decides from the errors' `retryable` and `indefinite` whether to try again. Also performs what
 * other servers forward to this leader.
 */
export class Proposer {
  private seq = 0;

  constructor(private readonly ctx: ProposerContext) {}

  apply(data: Uint8Array, options: ApplyOptions): Promise<Outcome> {
    return this.route(
      {
        what: 'apply',
        local: (o) => this.propose('apply', (core) => core.propose(data), o),
        request: (ids) => ({ kind: 'apply', ...ids, data }),
        idempotent: options.idempotent === true,
      },
      options,
    );
  }

  barrier(options: CallOptions): Promise<Outcome> {
    return this.route(
      {
        what: 'barrier',
        local: (o) => this.proposeBarrier(o),
        request: (ids) => ({ kind: 'barrier', ...ids }),
        // A barrier changes nothing: proposing it twice is harmless.
        idempotent: true,
      },
      options,
    );
  }

  changeMembership(change: ConfChange, options: ChangeOptions): Promise<Outcome> {
    const full: ConfChange =
      options.prevIndex === undefined ? change : { ...change, prevIndex: options.prevIndex };
    return this.route(
      {
        what: `${change.type} ${change.id}`,
        local: (o) => this.proposeChange(full, o),
        request: (ids) => {
          const base = { kind: change.type, ...ids, id: change.id };
          return options.prevIndex === undefined ? base : { ...base, prevIndex: options.prevIndex };
        },
        // A change names the state it wants for one server and changes nothing when that state
        // already holds, so repeating it is harmless; with prevIndex, a repeat after the first
        // took effect would be refused as CONFIGURATION_CHANGED, a wrong answer.
        idempotent: options.prevIndex === undefined,
      },
      options,
    );
  }

  /** Performs, once, a request another server forwarded to this leader; the sender retries. */
  performForwarded(request: ForwardRequest): Promise<Outcome> {
    const options = { timeoutMs: this.ctx.forwardedTimeoutMs };
    switch (request.kind) {
      case 'apply':
        return this.propose('apply', (core) => core.propose(request.data), options);
      case 'barrier':
        return this.proposeBarrier(options);
      default: {
        const change: ConfChange = { type: request.kind, id: request.id };
        return this.proposeChange(
          request.prevIndex === undefined ? change : { ...change, prevIndex: request.prevIndex },
          options,
        );
      }
    }
  }

  private nextIds(): RequestIds {
    return { origin: this.ctx.id, incarnation: this.ctx.incarnation, seq: ++this.seq };
  }

  private route(route: Route, options: CallOptions): Promise<Outcome> {
    const { ctx } = this;
    const policy: RetryPolicy = {
      ...callPolicy(route.what, options, ctx.retry, route.idempotent),
      // Without forwarding, a follower's caller must go to the leader itself (hashicorp's ErrNotLeader).
      ...(ctx.forwardToLeader ? {} : { final: (err: RaftError) => err.code === 'NOT_LEADER' }),
    };
    // The leader remembers each request by its ids: a re-sent attempt joins one still in progress
    // there (a slow leader a broadcast gave up on), and a duplicate delivery is never performed
    // twice. But it also remembers an unknown outcome it answered, and would give that same
    // answer forever: an idempotent call then takes new ids, so it is performed again (its FSM
    // applies it once).
    let ids = this.nextIds();
    return retry(policy, async ({ remainingMs, previous }) => {
      if (route.idempotent && previous !== null && answeredUnknown.has(previous)) ids = this.nextIds();
      const attempt = withSignal({ timeoutMs: remainingMs }, options.signal);
      if (!ctx.forwardToLeader) return route.local(attempt);
      if (ctx.role() === 'leader') {
        // An idempotent call follows leadership: if this node stops leading while the entry is
        // pending, the call goes on through the new leader, whose FSM applies it at most once.
        return route.idempotent
          ? this.whileLeaderIs(ctx.id, route.what, attempt, (o) => route.local(o))
          : route.local(attempt);
      }
      const hint = previous?.code === 'NOT_LEADER' ? previous.leader : null;
      // A lost request or answer would otherwise hold an idempotent call until its deadline: it
      // is sent again after a while, with the same ids, so the leader joins it to the first
      // attempt if that one arrived.
      const bounded = route.idempotent
        ? withSignal({ timeoutMs: Math.min(remainingMs, ctx.resendAfterMs) }, options.signal)
        : attempt;
      return this.forward(route.what, route.request(ids), hint ?? ctx.leader(), bounded);
    });
  }

  /**
   * One forward to `target`, or a broadcast when no leader is known. A forward to a named leader
   * ends as soon as this node learns of another leader (or none): waiting on a leader that died
   * would pin the call to it until its deadline.
   */
  private forward(
    what: string,
    request: ForwardRequest,
    target: NodeId | null,
    options: CallOptions,
  ): Promise<Outcome> {
    const { transport } = this.ctx;
    const to = target === this.ctx.id ? null : target;
    if (to === null) {
      // Broadcasts are answered only by a leader (or a server that knows it). One waits until an
      // answer, a leader becoming known here (then the call goes to it), or a resend: a slow
      // broker must not make every broadcast give up before its answer can arrive. No answer
      // leaves the outcome unknown: a leader may have taken the request and be slow, or have
      // failed it without an answer (nothing but success or a leader's name is sent to a
      // broadcast). So only an idempotent call sends it again; the leader joins the repeat, which
      // carries the same ids, to the first.
      const timeoutMs = Math.min(options.timeoutMs ?? this.ctx.resendAfterMs, this.ctx.resendAfterMs);
      const known = new AbortController();
      const stop = this.ctx.onLeaderChange((leader) => {
        if (leader !== null) known.abort();
      });
      const signal =
        options.signal === undefined ? known.signal : AbortSignal.any([options.signal, known.signal]);
      return transport
        .forward(null, request, { timeoutMs, signal })
        .then(
          (answer) => settle(answer),
          (err: unknown) => {
            if (!isRaftError(err, 'TIMEOUT') || options.signal?.aborted === true) throw err;
            throw new RaftError('TIMEOUT', `${what}: no leader answered`, {
              retryable: true,
              indefinite: true,
              cause: err,
            });
          },
        )
        .finally(stop);
    }
    return this.whileLeaderIs(to, what, options, (o) =>
      transport.forward(to, request, { timeoutMs: o.timeoutMs ?? 0, ...signalOf(o) }).then(settle),
    );
  }

  /**
   * Runs `task`, aborting it when the leader known here stops being `leader`; it then fails with
   * an indefinite `LEADERSHIP_LOST`: what was sent may still commit.
   */
  private async whileLeaderIs<T>(
    leader: NodeId,
    what: string,
    options: CallOptions,
    task: (options: CallOptions) => Promise<T>,
  ): Promise<T> {
    const lost = new AbortController();
    const stop = this.ctx.onLeaderChange((now) => {
      if (now !== leader) lost.abort();
    });
    const signal =
      options.signal === undefined ? lost.signal : AbortSignal.any([options.signal, lost.signal]);
    try {
      return await task({ ...options, signal });
    } catch (err) {
      if (!lost.signal.aborted || options.signal?.aborted === true) throw err;
      throw new RaftError(
        'LEADERSHIP_LOST',
        `${what}: ${leader} stopped leading before the outcome was known`,
        {
          retryable: true,
          indefinite: true,
          leader: this.ctx.leader(),
          cause: err,
        },
      );
    } finally {
      stop();
    }
  }

  private proposeBarrier(options: CallOptions): Promise<Outcome> {
    return this.propose('barrier', (core) => core.propose(new Uint8Array(), 'barrier'), options);
  }

  private async proposeChange(change: ConfChange, options: CallOptions): Promise<Outcome> {
    const { index } = await this.propose(
      `${change.type} ${change.id}`,
      (core) => core.proposeConfChange(change),
      options,
    );
    return { index };
  }

  /** Proposes in the node's loop, then waits until the entry is applied here (or its fate is known). */
  private async propose(
    what: string,
    propose: (core: RaftCore) => ReturnType<RaftCore['propose']>,
    options: CallOptions,
  ): Promise<Outcome> {
    const { proposals, clock } = this.ctx;
    const deadline = clock.now() + (options.timeoutMs ?? this.ctx.retry.timeoutMs);
    const bound = (indefinite: DeadlineOptions['indefinite'], onGiveUp: DeadlineOptions['onGiveUp']) => ({
      what,
      timeoutMs: Math.max(0, deadline - clock.now()),
      signal: options.signal,
      indefinite,
      ...(onGiveUp === undefined ? {} : { onGiveUp }),
      clock,
    });
    // A call that gives up before its turn in the loop must not propose after all (it reports a
    // definite failure); one that gives up after proposing reports an indefinite one.
    let phase: 'queued' | 'abandoned' | 'proposed' = 'queued';
    const result = await withDeadline(
      this.ctx.run((core) => {
        if (phase === 'abandoned') return null;
        phase = 'proposed';
        return propose(core);
      }),
      bound(
        () => phase === 'proposed',
        () => {
          if (phase === 'queued') phase = 'abandoned';
        },
      ),
    );
    // Stryker disable next-line ConditionalExpression,StringLiteral,BlockStatement: unreachable; a task returns null only once abandoned, and withDeadline rejected then; kept to narrow the type
    if (result === null) throw new RaftError('TIMEOUT', `${what}: gave up before proposing`);
    if (!result.accepted) {
      throw new RaftError(result.code, `${what}: ${result.message}`, {
        leader: result.leader,
        retryable: result.code !== 'INVALID_INPUT' && result.code !== 'CONFIGURATION_CHANGED',
      });
    }
    return withDeadline(
      proposals.wait(result.index, result.term),
      bound(true, (err) => proposals.abandon(result.index, err)),
    );
  }
}

/** Errors a leader answered with an unknown outcome, which it remembers for the request's ids. */
const answeredUnknown = new WeakSet<RaftError>();

/** A forward's answer as an outcome, or its error. */
function settle(answer: Awaited<ReturnType<Transport['forward']>>): Outcome {
  if (!answer.ok) {
    const err = fromWire(answer.error);
    if (err.indefinite) answeredUnknown.add(err);
    throw err;
  }
  return answer.response === undefined
    ? { index: answer.index }
    : { index: answer.index, response: answer.response };
}

function withSignal(options: { timeoutMs: number }, signal: AbortSignal | undefined): ForwardOptions {
  return signal === undefined ? options : { ...options, signal };
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}
