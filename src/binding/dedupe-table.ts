/**
 * How many applied seqs a session remembers above its floor. A seq more than this many applied
 * proposals behind the session's oldest gap counts as applied: at most once is the safe side.
 */
export const DEDUPE_WINDOW = 1024;

/** How many proposing sessions are remembered; the least recently used one is forgotten first. */
export const DEDUPE_MAX_SESSIONS = 10_000;

/** One session as it is stored in a snapshot: every seq ≤ `floor` and every seq in `seqs` is applied. */
export interface SessionRecord {
  readonly member: string;
  readonly floor: number;
  /** Applied seqs above the floor, ascending. */
  readonly seqs: readonly number[];
}

interface Session {
  floor: number;
  above: Set<number>;
}

/**
 * Which (member session, seq) pairs were applied (thesis §6.3). It is replicated state: every
 * member must reach the same verdict for the same entry, so it changes only on apply, in log order,
 * and uses no clock or randomness. Its size is bounded by {@link DEDUPE_MAX_SESSIONS} sessions
 * of at most {@link DEDUPE_WINDOW} remembered seqs each; a session proposing in order costs one
 * number, because contiguous seqs fold into the floor.
 *
 * Limits, by design: a proposal retried after its session was evicted (10,000 other sessions
 * proposed since) is applied again; one retried after 1,024 later seqs of its session were applied
 * while it was still missing is taken for applied and skipped.
 */
export class DedupeTable {
  // Map iteration order is insertion order; re-inserting on use keeps it least recently used first.
  private readonly sessions = new Map<string, Session>();
  private lastMember: string | null = null;

  /** Records that `member` applies `seq`. Returns false when it was applied before (a duplicate). */
  admit(member: string, seq: number): boolean {
    const session = this.touch(member);
    if (seq <= session.floor || session.above.has(seq)) return false;
    session.above.add(seq);
    fold(session);
    return true;
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
      const session: Session = { floor: r.floor, above: new Set(r.seqs.filter((seq) => seq > r.floor)) };
      fold(session);
      table.sessions.delete(r.member);
      table.sessions.set(r.member, session);
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

/** Folds seqs contiguous with the floor into it, then enforces the window by raising the floor. */
function fold(session: Session): void {
  while (session.above.delete(session.floor + 1)) session.floor += 1;
  while (session.above.size > DEDUPE_WINDOW) {
    // Give up on the oldest gap: everything up to the lowest remembered seq now counts as applied.
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of session.above) if (seq < lowest) lowest = seq;
    session.above.delete(lowest);
    session.floor = lowest;
    while (session.above.delete(session.floor + 1)) session.floor += 1;
  }
}
