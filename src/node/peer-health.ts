import type { NodeId } from '../core/types.js';

/**
 * A leader's view of which peers answer: a peer silent for longer than the heartbeat timeout has
 * failed until it is heard from again (hashicorp's failed and resumed heartbeat observations).
 */
/**
 * Senders remembered at most. Any sender with a valid id is recorded, members or not, so a flood of
 * forged ids must not grow the map without bound (design §7); a group has far fewer members.
 */
export const MAX_TRACKED_PEERS = 1024;

export class PeerHealth {
  private readonly lastHeard = new Map<NodeId, number>();
  private readonly failed = new Set<NodeId>();

  constructor(private readonly timeoutMs: number) {}

  /** Records a message from `peer`; returns true when that peer had failed and is back. */
  heard(peer: NodeId, now: number): boolean {
    // Re-inserted, so the map's order is least recently heard first: that one goes at the bound.
    this.lastHeard.delete(peer);
    this.lastHeard.set(peer, now);
    if (this.lastHeard.size > MAX_TRACKED_PEERS) {
      const oldest = this.lastHeard.keys().next().value as NodeId;
      this.lastHeard.delete(oldest);
    }
    return this.failed.delete(peer);
  }

  /** When `peer` was last heard from (ms on the node's clock), or undefined when never (or forgotten). */
  lastHeardFrom(peer: NodeId): number | undefined {
    return this.lastHeard.get(peer);
  }

  /** How many senders are remembered (for tests). */
  get tracked(): number {
    return this.lastHeard.size;
  }

  /** Returns the peers that have just failed, with when they were last heard (0: never). */
  check(peers: readonly NodeId[], now: number): Array<{ peer: NodeId; lastContact: number }> {
    const newlyFailed: Array<{ peer: NodeId; lastContact: number }> = [];
    for (const peer of peers) {
      const last = this.lastHeard.get(peer) ?? 0;
      if (now - last > this.timeoutMs && !this.failed.has(peer)) {
        this.failed.add(peer);
        newlyFailed.push({ peer, lastContact: last });
      }
    }
    return newlyFailed;
  }

  /** Forgets failures (this node stopped leading). */
  reset(): void {
    this.failed.clear();
  }
}
