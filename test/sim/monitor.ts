import type { Entry, HardState } from '../../src/core/index.js';
import { chainHash, entryIdentity, GENESIS } from './hash.js';

/** One broken invariant: which, where and when. */
export interface Violation {
  readonly invariant: string;
  readonly tick: number;
  readonly detail: string;
}

/** What the monitor tracks of one server's persisted log. */
interface NodeView {
  /** chain[i] is the chained hash of the persisted log at index i (chain[base] covers the snapshot). */
  chain: string[];
  /** terms[i] is the term of the persisted entry at index i. */
  terms: number[];
  hard: HardState;
  /** Highest persisted commit ever seen (never regresses, even across restarts). */
  persistedCommit: number;
  /** Highest commit seen in the current incarnation. */
  commit: number;
  lastApplied: number;
}

/**
 * The global oracle of the simulation. The simulation reports every persist, commit, apply and
 * leadership it observes; the monitor checks the Raft safety properties (Raft Figure 3) on each:
 * Election Safety, Log Matching, Leader Completeness, State Machine Safety, plus durability rules
 * (a committed entry is on a majority of persisted logs; commit and term never regress; one vote
 * per term).
 */
export class InvariantMonitor {
  readonly violations: Violation[] = [];
  private readonly nodes = new Map<string, NodeView>();
  /** Chained hash of every position (index/term) any server has persisted. */
  private readonly positions = new Map<string, string>();
  /** Chained hash and identity of each committed index. */
  private readonly committedChain: string[] = [];
  private readonly committedIdentity: string[] = [];
  private readonly leaders = new Map<number, string>();
  tick = 0;

  constructor(ids: readonly string[]) {
    for (const id of ids) {
      this.nodes.set(id, {
        chain: [GENESIS],
        terms: [0],
        hard: { term: 0, vote: null, commit: 0 },
        persistedCommit: 0,
        commit: 0,
        lastApplied: 0,
      });
    }
  }

  /** The highest index known committed anywhere. */
  maxCommitted(): number {
    return this.committedChain.length - 1;
  }

  /** The identity of the committed entry at `index`, if committed. */
  committedAt(index: number): string | undefined {
    return this.committedIdentity[index];
  }

  /** A server persisted `hard` and `entries` (which replace its log from entries[0].index). */
  onPersist(id: string, hard: HardState | null, entries: readonly Entry[]): void {
    const view = this.view(id);
    const commitBefore = view.persistedCommit;
    if (hard !== null) {
      if (hard.term < view.hard.term)
        this.fail('term monotonic', `${id} persisted term ${hard.term} < ${view.hard.term}`);
      if (hard.term === view.hard.term && view.hard.vote !== null && hard.vote !== view.hard.vote) {
        this.fail(
          'one vote per term',
          `${id} voted for ${view.hard.vote} then ${hard.vote} in term ${hard.term}`,
        );
      }
      if (hard.commit < view.persistedCommit) {
        this.fail(
          'commit never regresses',
          `${id} persisted commit ${hard.commit} < ${view.persistedCommit}`,
        );
      }
      view.hard = hard;
      view.persistedCommit = Math.max(view.persistedCommit, hard.commit);
    }
    const first = entries[0];
    if (first === undefined) return;
    if (first.index > view.chain.length) {
      this.fail('log contiguity', `${id} persisted ${first.index} after ${view.chain.length - 1}`);
      return;
    }
    if (first.index <= commitBefore) {
      this.fail(
        'committed entries are never overwritten',
        `${id} rewrote ${first.index} (commit ${commitBefore})`,
      );
    }
    view.chain.length = first.index;
    view.terms.length = first.index;
    for (const e of entries) {
      const h = chainHash(view.chain[e.index - 1] as string, e);
      view.chain.push(h);
      view.terms.push(e.term);
      const key = `${e.index}/${e.term}`;
      const seen = this.positions.get(key);
      if (seen === undefined) this.positions.set(key, h);
      else if (seen !== h)
        this.fail('log matching', `${id} holds a different log at index ${e.index} term ${e.term}`);
    }
    this.checkElectableAreComplete();
  }

  /**
   * Leader Completeness in its strongest form: any server that could win an election now (a
   * majority's persisted logs are no more up to date than its own, Raft §5.4.1) must already hold
   * every committed entry. This catches an unsafe commit the moment it happens, before a later
   * leader actually overwrites the entry (the Raft paper's Figure 8).
   */
  private checkElectableAreComplete(): void {
    const max = this.maxCommitted();
    if (max <= 0) return;
    const expected = this.committedChain[max];
    const views = [...this.nodes.entries()];
    for (const [id, candidate] of views) {
      if (candidate.chain[max] === expected) continue;
      const voters = views.filter(([, v]) => atLeastAsUpToDate(candidate, v)).length;
      if (voters > views.length / 2) {
        this.fail(
          'leader completeness',
          `${id} lacks committed index ${max} yet ${voters} servers would vote for it`,
        );
      }
    }
  }

  /** A server's commit index is now `commit` (its persisted log holds every entry up to it). */
  onCommit(id: string, commit: number): void {
    const view = this.view(id);
    if (commit < view.commit) this.fail('commit never regresses', `${id} commit ${commit} < ${view.commit}`);
    if (commit >= view.chain.length) {
      this.fail(
        'committed is durable',
        `${id} committed ${commit} beyond its persisted log ${view.chain.length - 1}`,
      );
      return;
    }
    for (let i = view.commit + 1; i <= commit; i++) {
      const h = view.chain[i] as string;
      const known = this.committedChain[i];
      if (known === undefined) {
        this.committedChain[i] = h;
        const holders = [...this.nodes.values()].filter((v) => v.chain[i] === h).length;
        if (holders <= this.nodes.size / 2) {
          this.fail(
            'committed is on a majority',
            `index ${i} committed by ${id} is on ${holders} persisted logs`,
          );
        }
      } else if (known !== h) {
        this.fail('state machine safety', `${id} committed a different entry at index ${i}`);
      }
    }
    view.commit = Math.max(view.commit, commit);
    this.checkElectableAreComplete();
  }

  /** Records the identity of committed entries the first time they are applied anywhere. */
  private noteIdentity(e: Entry): string | undefined {
    const identity = entryIdentity(e);
    const known = this.committedIdentity[e.index];
    if (known === undefined) this.committedIdentity[e.index] = identity;
    return known;
  }

  /** A server applied `entries`, in order. */
  onApply(id: string, entries: readonly Entry[]): void {
    const view = this.view(id);
    for (const e of entries) {
      if (e.index !== view.lastApplied + 1) {
        this.fail('applies in order without gaps', `${id} applied ${e.index} after ${view.lastApplied}`);
      }
      if (e.index > view.commit)
        this.fail('applies only committed', `${id} applied ${e.index} above commit ${view.commit}`);
      const known = this.noteIdentity(e);
      if (known !== undefined && known !== entryIdentity(e)) {
        this.fail(
          'state machine safety',
          `${id} applied ${entryIdentity(e)} at ${e.index}; others applied ${known}`,
        );
      }
      view.lastApplied = e.index;
    }
  }

  /** A server became leader of `term`; its log must hold every committed entry (Leader Completeness). */
  onLeader(id: string, term: number): void {
    const holder = this.leaders.get(term);
    if (holder !== undefined && holder !== id)
      this.fail('election safety', `${holder} and ${id} both led term ${term}`);
    this.leaders.set(term, id);
    const max = this.maxCommitted();
    if (max <= 0) return;
    const view = this.view(id);
    if (view.chain[max] !== this.committedChain[max]) {
      this.fail('leader completeness', `leader ${id} of term ${term} lacks committed index ${max}`);
    }
  }

  /** A server restarted: its applied state is rebuilt from its snapshot and its commit from storage. */
  onRestart(id: string, snapshotIndex: number): void {
    const view = this.view(id);
    view.lastApplied = snapshotIndex;
    view.commit = view.persistedCommit;
  }

  /** How many distinct leaders were elected. */
  leaderCount(): number {
    return this.leaders.size;
  }

  fail(invariant: string, detail: string): void {
    this.violations.push({ invariant, detail, tick: this.tick });
  }

  private view(id: string): NodeView {
    const v = this.nodes.get(id);
    if (v === undefined) throw new Error(`unknown node ${id}`);
    return v;
  }
}

/** Raft §5.4.1: `a`'s log is at least as up to date as `b`'s. */
function atLeastAsUpToDate(a: NodeView, b: NodeView): boolean {
  const aTerm = a.terms.at(-1) ?? 0;
  const bTerm = b.terms.at(-1) ?? 0;
  return aTerm > bTerm || (aTerm === bTerm && a.terms.length >= b.terms.length);
}
