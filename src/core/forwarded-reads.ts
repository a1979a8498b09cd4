import type { ReadState } from './ready.js';
import type { ReadIndexResponse } from './types.js';

/** A follower's ReadIndex requests waiting for the leader's answer. */
export class ForwardedReads {
  private readonly pending = new Set<number>();

  add(requestId: number): void {
    this.pending.add(requestId);
  }

  /** The read state for an answer, or null when the answer is for no pending read. */
  answered(m: ReadIndexResponse): ReadState | null {
    if (!this.pending.delete(m.requestId)) return null;
    return { requestId: m.requestId, index: m.index, ok: m.ok };
  }

  /**
   * Fails every pending read: the leader they were sent to is no longer ours, and its answer may
   * never come.
   */
  failAll(): ReadState[] {
    const failed = [...this.pending].map((requestId) => ({ requestId, index: 0, ok: false }));
    this.pending.clear();
    return failed;
  }
}
