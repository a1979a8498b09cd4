import type { NodeId } from '../core/types.js';

/**
 * A leader's view of which peers answer: a peer silent for longer than the heartbeat timeout has
 * failed until it is heard from again (hashicorp's failed and resumed heartbeat observations).
 */
export class PeerHealth {
  private readonly lastHeard = new Map<NodeId, number>();
  private readonly failed = new Set<NodeId>();

  constructor(private readonly timeoutMs: number) {}

  /** Records a message from `peer`; returns true when that peer had failed and is back. */
  heard(peer: NodeId, now: number): boolean {
    this.lastHeard.set(peer, now);
    return this.failed.delete(peer);
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
