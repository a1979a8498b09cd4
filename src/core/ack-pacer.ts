import type { MessageDraft } from './types.js';

/**
 * Paces a non-voter's answers to its leader. A non-voter's answers decide no commit and no read
 * (only voters count, Raft §5.3 and thesis §6.4), yet in a fleet of observers they are most of the
 * leader's traffic: one answer per observer per append. So a non-voter answers a success at most
 * once every `everyTicks` ticks, or sooner once `everyAppends` successes are waiting (so the
 * leader's flow-control window, which counts unanswered appends, never fills); in between, only
 * the newest success is held (it covers the older ones). A heartbeat is answered only when an
 * answer is due, and then by the held success if there is one: answering both would make the
 * leader send a catch-up append for entries that are merely still in flight. Refusals are never
 * held: the leader must learn of a gap at once.
 */
export class AckPacer {
  private held: MessageDraft | null = null;
  private ticks: number;
  private waiting = 0;

  constructor(
    private readonly everyTicks: number,
    private readonly everyAppends: number,
  ) {
    this.ticks = everyTicks;
  }

  /**
   * Sends a refusal, or the answer to a snapshot, at once; the success that follows a refusal is
   * due at once too. The leader is probing then (one append at a time until it hears back,
   * etcd's flow control), so holding that answer would hold the follower's catch-up.
   */
  now(m: MessageDraft): MessageDraft[] {
    this.clear();
    return [m];
  }

  /**
   * Offers a success answer to an append or a snapshot; returns what to send now: the answer, or
   * nothing while it is held.
   */
  appendAnswer(m: MessageDraft): MessageDraft[] {
    this.waiting++;
    if (!this.due()) {
      this.held = m;
      return [];
    }
    this.reset();
    return [m];
  }

  /** Offers an answer to a heartbeat: when due, sends it, or the held success in its place. */
  heartbeatAnswer(m: MessageDraft): MessageDraft[] {
    if (!this.due()) return [];
    const held = this.held;
    this.reset();
    return [held ?? m];
  }

  /** Advances time; returns the held answer once it is due. */
  tick(): MessageDraft[] {
    this.ticks++;
    if (this.held === null || !this.due()) return [];
    const held = this.held;
    this.reset();
    return [held];
  }

  /** Forgets what is held, and makes the next answer due: the leader or term changed. */
  clear(): void {
    this.held = null;
    this.waiting = 0;
    this.ticks = this.everyTicks;
  }

  private due(): boolean {
    return this.ticks >= this.everyTicks || this.waiting >= this.everyAppends;
  }

  private reset(): void {
    this.held = null;
    this.ticks = 0;
    this.waiting = 0;
  }
}
