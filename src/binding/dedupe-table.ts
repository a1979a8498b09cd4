/**
 * How far past its acknowledgement a session's seqs may run: a proposer never has a seq in flight
 * this many above the lowest one it still waits for (the binding starts a new session first).
 */
export const DEDUPE_WINDOW = 2048;

/** How many proposing sessions are remembered; the least recently used one is forgotten first. */
export const DEDUPE_MAX_SESSIONS = 10_000;

/** One session as it is stored in a snapshot. */
export interface SessionRecord {
  readonly member: string;
  /** Every seq up to here is finished: its proposer has stopped waiting for it. */
  readonly floor: number;
  /** Applied seqs above the floor, ascending. */
  readonly seqs: readonly number[];
}

/** What the table says of a proposal. */
export type Admission =
  /** First time: apply it. */
  | 'applied'
  /** Applied before under the same session and seq: change nothing, answer as applied. */
  | 'duplicate'
  /**
   * Never to be applied: its proposer acknowledged that it stopped waiting for it, or it lies
   * beyond the window. Not applied, so it must not be answered as applied (design §7).
   */
  | 'expired';

interface Session {
  floor: number;
  above: Set<number>;
}

/**
 * Which (member session, seq) pairs were applied: client sessions as in the Raft thesis §6.3.
 * Each proposal also carries its session's acknowledgement, the lowest seq whose answer the
 * proposer still waits for; everything below it is finished, so the table forgets it (the
 * thesis's "discard responses the client has acknowledged"). Every applied seq the proposer may
 * still retry is remembered exactly, so a retry is never applied twice and a proposal that was
 * not applied is never taken for a duplicate.
 *
 * It is replicated state: every member must reach the same verdict for the same entry, so it
 * changes only on apply, in log order, and uses no clock or randomness. It holds at most
 * {@link DEDUPE_MAX_SESSIONS} sessions of at most {@link DEDUPE_WINDOW} seqs each. A proposal
 * retried after its session was evicted (10,000 other sessions proposed since) is applied again.
 */
export class DedupeTable {
  // Map iteration order is insertion order; re-inserting on use keeps it least recently used first.
  private readonly sessions = new Map<string, Session>();
  private lastMember: string | null = null;

  /** Decides what to do with `seq` of `member`, whose proposer waits for nothing below `ack`. */
  admit(member: string, seq: number, ack: number): Admission {
    const session = this.touch(member);
    if (ack - 1 > session.floor) raiseFloor(session, ack - 1);
    if (seq <= session.floor || seq > session.floor + DEDUPE_WINDOW) return 'expired';
    if (session.above.has(seq)) return 'duplicate';
    session.above.add(seq);
    return 'applied';
  }

  /** Number of sessions and of seqs remembered above their floors (for diagnostics and tests). */
  stats(): { sessions: number; seqs: number } {
    let seqs = 0;
    for (const s of this.sessions.values()) seqs += s.above.size;
    return { sessions: this.sessions.size, seqs };
  }

  /** A copy of the table, least recently used session first, in canonical form (sorted seqs). */
  records(): SessionRecord[] {
    return [...this.sessions].map(([member, s]) => ({
      member,
      floor: s.floor,
      seqs: [...s.above].sort((a, b) => a - b),
    }));
  }

  /**
   * Builds a table from snapshot records (least recently used first), applying the same bounds as
   * {@link admit}, so a table restored from a snapshot taken with other limits still obeys ours.
   */
  static fromRecords(records: Iterable<SessionRecord>): DedupeTable {
    const table = new DedupeTable();
    for (const r of records) {
      const inWindow = r.seqs.filter((seq) => seq > r.floor && seq <= r.floor + DEDUPE_WINDOW);
      table.sessions.delete(r.member);
      table.sessions.set(r.member, { floor: r.floor, above: new Set(inWindow) });
      table.lastMember = r.member;
      table.evict();
    }
    return table;
  }

  private touch(member: string): Session {
    let session = this.sessions.get(member);
    if (session === undefined) {
      session = { floor: 0, above: new Set() };
      this.sessions.set(member, session);
      this.evict();
      // Stryker disable next-line ConditionalExpression: the last member used is already at the recently used end; moving it again changes nothing
    } else if (this.lastMember !== member) {
      this.sessions.delete(member);
      this.sessions.set(member, session);
    }
    this.lastMember = member;
    return session;
  }

  private evict(): void {
    while (this.sessions.size > DEDUPE_MAX_SESSIONS) {
      const oldest = this.sessions.keys().next();
      if (oldest.done === true) return;
      this.sessions.delete(oldest.value);
    }
  }
}

/** Forgets the seqs at or below `floor`: their proposer is done with them. */
function raiseFloor(session: Session, floor: number): void {
  session.floor = floor;
  for (const seq of session.above) if (seq <= floor) session.above.delete(seq);
}
