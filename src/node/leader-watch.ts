import type { Clock } from '../clock.js';
import type { NodeId } from '../core/types.js';

/**
 * The node's own subscribers to leader changes: calls in flight that must end when their leader
 * is lost, and retries waiting for a new leader. Kept apart from the public `leaderChange` event,
 * whose listeners are the user's: thousands of pending calls must not look like a listener leak
 * there, nor be reached by a user's throwing listener.
 */
export class LeaderWatch {
  private readonly watchers = new Set<(leader: NodeId | null) => void>();

  constructor(private readonly clock: Clock) {}

  /** Calls `listener` on every later change; returns a function that stops it. */
  watch(listener: (leader: NodeId | null) => void): () => void {
    this.watchers.add(listener);
    return () => this.watchers.delete(listener);
  }

  /** Resolves at the next change, or after `ms`, whichever comes first. */
  nextOrDelay(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.clock.clearTimeout(timer);
        stop();
        resolve();
      };
      const timer = this.clock.setTimeout(done, ms);
      const stop = this.watch(done);
    });
  }

  /** The leader known here is now `leader`. */
  changed(leader: NodeId | null): void {
    for (const watcher of [...this.watchers]) watcher(leader);
  }
}
