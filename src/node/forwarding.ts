import type { NodeId } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { ForwardRequest, ForwardResponse, Transport, WireError } from '../transport/types.js';
import { fromWire, toWire } from '../transport/wire-error.js';

/** Turns any error into its wire form; errors that are not RaftErrors become indefinite failures. */
export function toWireError(err: unknown, leader: NodeId | null): WireError {
  return toWire(err, { code: 'UNREACHABLE', retryable: true, indefinite: true }, leader);
}

/** How many answered requests the leader remembers, per node, to recognise duplicates. */
const REMEMBERED = 10_000;

/**
 * The leader's side of forwarding: performs each forwarded operation once per (origin, seq), so a
 * duplicate delivery or a retry gets the first attempt's answer instead of a second proposal.
 * Definite failures are forgotten, so a retry after one is tried afresh.
 */
export class ForwardServer {
  private readonly recent = new Map<string, Promise<ForwardResponse>>();

  constructor(
    private readonly isLeader: () => boolean,
    private readonly leaderHint: () => NodeId | null,
    private readonly perform: (request: ForwardRequest) => Promise<{ index: number; response?: unknown }>,
  ) {}

  handle(request: ForwardRequest): Promise<ForwardResponse> {
    const key = `${request.origin}\u0000${request.seq}`;
    const known = this.recent.get(key);
    if (known !== undefined) return known;
    if (!this.isLeader()) {
      return Promise.resolve({
        ok: false,
        error: {
          code: 'NOT_LEADER',
          message: 'not the leader',
          retryable: true,
          indefinite: false,
          leader: this.leaderHint(),
        },
      });
    }
    const answer = this.perform(request).then(
      ({ index, response }): ForwardResponse => ({ ok: true, index, response }),
      (err: unknown): ForwardResponse => {
        const error = toWireError(err, this.leaderHint());
        if (!error.indefinite) this.recent.delete(key);
        return { ok: false, error };
      },
    );
    this.recent.set(key, answer);
    if (this.recent.size > REMEMBERED) this.recent.delete(this.recent.keys().next().value as string);
    return answer;
  }
}

/** What a forwarding client needs from its node. */
export interface ForwardClientContext {
  readonly transport: Transport;
  readonly leader: () => NodeId | null;
  readonly selfId: NodeId;
  /** True when this node leads now: the caller should act locally instead of forwarding. */
  readonly isLeader: () => boolean;
  /** Resolves when the known leader changes, or after `ms`, whichever comes first. */
  readonly leaderChangeOrDelay: (ms: number) => Promise<void>;
  readonly retryDelayMs: number;
}

/**
 * Sends an operation to the leader and follows NOT_LEADER hints until it is answered or the
 * deadline passes. With no leader known, it broadcasts (a joining server may know nobody yet).
 * It retries only failures that are definite, so an operation is never proposed twice by two
 * leaders; duplicates to the same leader are absorbed by its {@link ForwardServer}. Resolves with
 * `'becameLeader'` when this node took over meanwhile, so the caller acts locally.
 */
export async function forwardToLeader(
  ctx: ForwardClientContext,
  request: ForwardRequest,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<{ index: number; response?: unknown } | 'becameLeader'> {
  let target = ctx.leader();
  for (;;) {
    if (ctx.isLeader()) return 'becameLeader';
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal?.aborted) {
      throw new RaftError('TIMEOUT', `${request.kind}: no leader answered in time`, {
        retryable: true,
        indefinite: false,
      });
    }
    if (target === ctx.selfId) target = null;
    // Broadcasts are answered only by a leader; keep them short so a new leader's hint is used soon.
    const timeoutMs = target === null ? Math.min(remaining, 4 * ctx.retryDelayMs) : remaining;
    let answer: ForwardResponse;
    try {
      answer = await ctx.transport.forward(
        target,
        request,
        signal === undefined ? { timeoutMs } : { timeoutMs, signal },
      );
    } catch (err) {
      const definite = err instanceof RaftError && !err.indefinite;
      const broadcastTimedOut = target === null && err instanceof RaftError && err.code === 'TIMEOUT';
      // A broadcast nobody answered proposed nothing: only a leader answers, and it always does.
      if (!definite && !broadcastTimedOut) throw err;
      await ctx.leaderChangeOrDelay(ctx.retryDelayMs);
      target = ctx.leader();
      continue;
    }
    if (answer.ok)
      return answer.response === undefined
        ? { index: answer.index }
        : { index: answer.index, response: answer.response };
    const error = fromWire(answer.error);
    if (error.code !== 'NOT_LEADER') throw error;
    if (error.leader !== null && error.leader !== target) {
      target = error.leader;
      continue;
    }
    await ctx.leaderChangeOrDelay(ctx.retryDelayMs);
    target = ctx.leader();
  }
}
