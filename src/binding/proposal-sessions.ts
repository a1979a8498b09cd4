import { randomBytes } from 'node:crypto';
import type { RandomBytes } from '../core/random.js';
import { DEDUPE_WINDOW } from './dedupe-table.js';

/** One proposal's identity, and the acknowledgement it carries. */
export interface Ticket {
  readonly session: string;
  readonly seq: number;
  /** The lowest seq of the session still waited for when this ticket was issued. */
  readonly ack: number;
  /** The call is over (whatever its outcome): its seq need no longer be remembered. */
  finish(): void;
}

/**
 * Numbers a binding's proposals for the FSM's dedupe table (Raft thesis §6.3): a session id,
 * random per binding so that no two processes share one, a seq per proposal, and the lowest seq
 * still in flight. When the oldest call in flight lags {@link DEDUPE_WINDOW} seqs behind, a new
 * session starts, so no seq ever falls outside the window the table keeps.
 */
export class ProposalSessions {
  private current: Session;

  /** `bytes` draws the session ids; the default is the system's cryptographic generator. */
  constructor(private readonly bytes: RandomBytes = randomBytes) {
    this.current = new Session(this.newId());
  }

  issue(): Ticket {
    if (this.current.lag() >= DEDUPE_WINDOW) this.current = new Session(this.newId());
    return this.current.issue();
  }

  private newId(): string {
    return Buffer.from(this.bytes(8)).toString('hex');
  }
}

class Session {
  private last = 0;
  /** Seqs issued and not known to be finished, ascending (finished ones are dropped lazily). */
  private readonly issued: number[] = [];
  private head = 0;
  private readonly finished = new Set<number>();

  constructor(readonly id: string) {}

  /** How far the next seq would be from the oldest one in flight. */
  lag(): number {
    return this.last + 1 - this.ack();
  }

  issue(): Ticket {
    const seq = ++this.last;
    this.issued.push(seq);
    const ack = this.ack();
    return { session: this.id, seq, ack, finish: () => this.finish(seq) };
  }

  private finish(seq: number): void {
    this.finished.add(seq);
    this.ack();
  }

  /** The lowest seq in flight, or the next one when none is. */
  private ack(): number {
    while (this.head < this.issued.length && this.finished.delete(this.issued[this.head] as number))
      this.head += 1;
    // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,ArithmeticOperator,BlockStatement: when to compact changes only memory and speed; dropping the finished head is right at any point
    if (this.head > 1024 && this.head * 2 > this.issued.length) {
      this.issued.splice(0, this.head);
      this.head = 0;
    }
    return this.issued[this.head] ?? this.last + 1;
  }
}
