import type { Configuration, NodeId } from '../core/types.js';
import type { ForwardRequest, ForwardResponse, WireError } from '../transport/types.js';
import { toWire } from '../transport/wire-error.js';

/** Turns any error into its wire form; errors that are not RaftErrors become indefinite failures. */
export function toWireError(err: unknown, leader: NodeId | null): WireError {
  return toWire(err, { code: 'UNREACHABLE', retryable: true, indefinite: true }, leader);
}

/**
 * Why a forwarded request from `from` must not be performed, or null when it may (design §7).
 * A member speaks only for itself: `origin` must be the sender (the leader's dedupe and the answer
 * are keyed by it). A membership change comes from a server of the configuration, or from a
 * server about itself (a joiner adding itself, a wiped member removing its old self). Who may
 * send at all is the transport's business: with a group key, only holders of the key.
 */
export function forwardRefusal(
  request: ForwardRequest,
  from: NodeId,
  config: Configuration,
): WireError | null {
  const refuse = (message: string): WireError => ({
    code: 'INVALID_INPUT',
    message,
    retryable: false,
    indefinite: false,
    leader: null,
  });
  if (request.origin !== from) return refuse(`${from} may not forward a request of ${request.origin}`);
  if (request.kind === 'apply' || request.kind === 'barrier' || request.id === from) return null;
  if (config.servers.some((s) => s.id === from)) return null;
  return refuse(`${from} is not a member: it may change only its own membership`);
}

/** How many forwarded requests the leader remembers, over all senders, to recognise duplicates. */
const REMEMBERED = 10_000;

/**
 * The leader's side of forwarding: performs each forwarded operation once per (origin,
 * incarnation, seq), so a duplicate delivery or a re-sent attempt gets the first one's answer
 * instead of a second proposal. The incarnation is random per process of the origin (design §7):
 * a restarted member counts its seqs from 1 again, and must never be answered with what its
 * previous process was told. Definite failures are forgotten, so a retry after one is performed
 * afresh; the oldest requests are forgotten first beyond {@link REMEMBERED}.
 */
export class ForwardServer {
  private readonly recent = new Map<string, Promise<ForwardResponse>>();

  constructor(
    private readonly isLeader: () => boolean,
    private readonly leaderHint: () => NodeId | null,
    private readonly perform: (request: ForwardRequest) => Promise<{ index: number; response?: unknown }>,
  ) {}

  handle(request: ForwardRequest): Promise<ForwardResponse> {
    const key = `${request.origin}\u0000${request.incarnation}\u0000${request.seq}`;
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
