import type { NodeId } from './types.js';

/** A read waiting for the leader to confirm it still leads. */
interface PendingRead {
  readonly requestId: number;
  /** Who asked: this server, or a follower the answer goes back to. */
  readonly requester: NodeId;
  /** The commit index when the read arrived: the read may be served once this much is applied. */
  readonly index: number;
  /** The heartbeat round that confirms it. */
  readonly round: number;
}

/** A read whose leadership check passed. */
export interface ConfirmedRead {
  readonly requestId: number;
  readonly requester: NodeId;
  readonly index: number;
}

/**
 * The leader's ReadIndex bookkeeping (thesis §6.4): each read records the commit index and a
 * heartbeat round; once a quorum answers a round, that round and every earlier one are confirmed,
 * because the answers prove no newer leader existed when the round was sent.
 */
export class ReadOnlyQueue {
  private pending: PendingRead[] = [];
  private readonly acks = new Map<number, Set<NodeId>>();
  private round = 0;

  /** Queues a read and returns the heartbeat round (context) that will confirm it. */
  add(requestId: number, requester: NodeId, index: number, self: NodeId): number {
    this.round++;
    this.pending.push({ requestId, requester, index, round: this.round });
    this.acks.set(this.round, new Set([self]));
    return this.round;
  }

  /** Records `from`'s answer to round `context`; returns the reads it confirms, given the quorum test. */
  ack(context: number, from: NodeId, isQuorum: (acks: ReadonlySet<NodeId>) => boolean): ConfirmedRead[] {
    const acks = this.acks.get(context);
    if (acks === undefined) return [];
    acks.add(from);
    if (!isQuorum(acks)) return [];
    const confirmed = this.pending.filter((r) => r.round <= context);
    this.pending = this.pending.filter((r) => r.round > context);
    for (const round of this.acks.keys()) if (round <= context) this.acks.delete(round);
    return confirmed.map(({ requestId, requester, index }) => ({ requestId, requester, index }));
  }

  /** Removes and returns every pending read (the leader lost its role). */
  drain(): ConfirmedRead[] {
    const all = this.pending.map(({ requestId, requester, index }) => ({ requestId, requester, index }));
    this.pending = [];
    this.acks.clear();
    return all;
  }

  /** The newest round with reads still waiting, or 0 when none are. */
  lastRound(): number {
    return this.pending.at(-1)?.round ?? 0;
  }

  size(): number {
    return this.pending.length;
  }
}
