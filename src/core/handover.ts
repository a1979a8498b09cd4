import type { Ready, SoftState } from './ready.js';
import type { HardState, Message, NodeId, Role } from './types.js';

/**
 * The core's side of the Ready contract: which Ready is outstanding, which soft and hard state
 * the runtime was last handed (so the next Ready carries only changes), and which hard state it
 * has reported persisted (which decides what may be sent before a write).
 */
export class Handover {
  private pending: Ready | null = null;
  private lastSoft: SoftState = { role: 'follower', leader: null };
  private lastHard: HardState;
  /** The newest hard state the runtime reported persisted. */
  private persistedHard: HardState;

  constructor(initial: HardState) {
    this.lastHard = initial;
    this.persistedHard = initial;
  }

  /** True while a Ready is out: the core then takes no input. */
  get outstanding(): boolean {
    return this.pending !== null;
  }

  assertNotOutstanding(): void {
    if (this.pending !== null) throw new Error('the core takes no input between ready() and advance()');
  }

  /** Whether role or leader differ from what was last handed out (no allocation: hasReady runs often). */
  softChanged(role: Role, leader: NodeId | null): boolean {
    return this.lastSoft.role !== role || this.lastSoft.leader !== leader;
  }

  /** Whether term, vote or commit differ from what was last handed out. */
  hardChanged(term: number, vote: NodeId | null, commit: number): boolean {
    const h = this.lastHard;
    return h.term !== term || h.vote !== vote || h.commit !== commit;
  }

  handOut(ready: Ready): void {
    this.assertNotOutstanding();
    this.pending = ready;
  }

  /** The runtime handed `ready` back (advance or accept). */
  handBack(ready: Ready): void {
    if (ready !== this.pending) throw new Error('a Ready that is not outstanding was handed back');
    this.pending = null;
    if (ready.hardState !== null) this.lastHard = ready.hardState;
    if (ready.softState !== null) this.lastSoft = ready.softState;
  }

  /** The runtime reported `ready`'s write done. Reports come in order; an older term never wins. */
  persisted(ready: Ready): void {
    if (ready.hardState !== null && ready.hardState.term >= this.persistedHard.term)
      this.persistedHard = ready.hardState;
  }

  /**
   * Appends and heartbeats promise nothing about this server's storage, as long as their term is
   * persisted: a lone voter elects itself within one Ready, and must not announce a term that a
   * crash could make it forget (it would then win the same term again, with another log).
   */
  mayGoBeforePersist(m: Message): boolean {
    return (m.type === 'appendRequest' || m.type === 'heartbeatRequest') && m.term <= this.persistedHard.term;
  }

  /** Whether `ready` changes no term or vote beyond what is persisted. */
  keepsPersistedTermAndVote(ready: Ready): boolean {
    const h = ready.hardState;
    return h === null || (h.term === this.persistedHard.term && h.vote === this.persistedHard.vote);
  }
}
