/**
 * How the leader replicates to one follower (the etcd/raft flow-control design):
 * - `probe`: the follower's position is unknown; send one AppendEntries and wait for its answer;
 * - `replicate`: the follower is in step; stream entries optimistically, at most `maxInflight`
 *   messages unacknowledged;
 * - `snapshot`: the follower is behind the leader's first index; wait for a snapshot to install.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one follower's log. */
export class Progress {
  /** Highest index known to match the leader's log. */
  match = 0;
  /** Next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In `probe`, true after sending until the follower answers (or a heartbeat answer arrives). */
  probeSent = false;
  /** Set by any message from the follower; the leader's check-quorum reads and clears it. */
  recentActive = false;
  /** Highest commit index this follower has been sent. */
  sentCommit = 0;
  /** In `snapshot`, the index of the snapshot being installed. */
  pendingSnapshot = 0;
  /** Ticks spent waiting in `snapshot`, so a lost snapshot is retried. */
  snapshotTicks = 0;
  /** Last index of each unacknowledged AppendEntries, oldest first. */
  private readonly inflight: number[] = [];

  constructor(
    next: number,
    private readonly maxInflight: number,
  ) {
    this.next = next;
  }

  /** True when no more AppendEntries should be sent until the follower answers. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= this.maxInflight;
      case 'snapshot':
        return true;
    }
  }

  /** Records a success answer up to `index`; returns true when `match` moved forward. */
  maybeUpdate(index: number): boolean {
    let moved = false;
    if (index > this.match) {
      this.match = index;
      moved = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.freeTo(index);
    return moved;
  }

  /** Records that an AppendEntries ending at `lastIndex` was sent. */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflight.push(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /**
   * Handles a rejection of the AppendEntries whose `prevIndex` was `rejected`. `nextHint` is where
   * the leader's and follower's logs may still agree. Returns false when the rejection is stale.
   */
  maybeDecrease(rejected: number, nextHint: number): boolean {
    if (this.state === 'replicate') {
      // A rejection at or below match answers a message older than our knowledge.
      if (rejected <= this.match) return false;
      this.becomeProbe();
      this.next = Math.max(this.match + 1, Math.min(nextHint, this.next));
      return true;
    }
    // In probe only the answer to the probe in flight (prevIndex = next - 1) counts. A rejection
    // at match comes from a follower that lost what it acknowledged (its store was wiped): next
    // cannot go lower, and resending at once would loop; the next heartbeat probes again.
    if (this.next - 1 !== rejected || rejected <= this.match) return false;
    this.next = Math.max(this.match + 1, Math.min(rejected, nextHint));
    this.probeSent = false;
    return true;
  }

  becomeProbe(): void {
    // After a snapshot, resume right behind it; otherwise right behind what is known to match.
    this.next = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) + 1 : this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.inflight.length = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.probeSent = false;
    this.next = this.match + 1;
    this.inflight.length = 0;
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.snapshotTicks = 0;
    this.probeSent = false;
    this.inflight.length = 0;
  }

  /** Forgets acknowledged messages, so the window opens. */
  private freeTo(index: number): void {
    let n = 0;
    while (n < this.inflight.length && (this.inflight[n] as number) <= index) n++;
    if (n > 0) this.inflight.splice(0, n);
  }

  /** Frees the oldest in-flight slot: a heartbeat answer proves the follower is alive and reading. */
  freeFirst(): void {
    this.inflight.shift();
  }

  inflightCount(): number {
    return this.inflight.length;
  }
}
