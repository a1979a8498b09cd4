import type { NodeId } from '../core/types.js';
import type { ForwardRequest, ForwardResponse, WireError } from '../transport/types.js';
import { toWire } from '../transport/wire-error.js';

/** Turns any error into its wire form; errors that are not RaftErrors become indefinite failures. */
export function toWireError(err: unknown, leader: NodeId | null): WireError {
  return toWire(err, { code: 'UNREACHABLE', retryable: true, indefinite: true }, leader);
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
