import type { Entry, HardState, SnapshotMeta } from '../../src/core/index.js';
import { chainHash, entryIdentity, GENESIS } from './hash.js';

/** One broken invariant: which, where and when. */
export interface Violation {
  readonly invariant: string;
  readonly tick: number;
  readonly detail: string;
}

/** What the monitor tracks of one server's persisted log. */
interface NodeView {
  /** chain[i] is the chained hash of the persisted log at index i. */
  chain: string[];
  /** terms[i] is the term of the persisted entry at index i. */
  terms: number[];
  /** Index of the last installed snapshot: positions below it are unknown (holes in chain/terms). */
  base: number;
  /** The voters of the server's current configuration. */
  voters: readonly string[];
  /** The voters of the configuration before that (a commit may have been counted in either). */
  previousVoters: readonly string[];
  hard: HardState;
  /** Highest persisted commit ever seen (never regresses, even across restarts). */
  persistedCommit: number;
  /** Highest commit seen in the current incarnation. */
  commit: number;
  lastApplied: number;
}

/**
 * The global oracle of the simulation. The simulation reports every persist, commit, apply,
 * snapshot and leadership it observes; the monitor checks the Raft safety properties (Raft
 * Figure 3) on each: Election Safety, Log Matching, Leader Completeness, State Machine Safety,
 * plus durability rules (a committed entry is on a majority of persisted logs; commit and term
 * never regress; one vote per term).
 */
export class InvariantMonitor {
  readonly violations: Violation[] = [];
  private readonly nodes = new Map<string, NodeView>();
  /** Chained hash of every position (index/term) any server has persisted. */
  private readonly positions = new Map<string, string>();
  /** Chained hash and identity of each committed index. */
  private readonly committedChain: string[] = [GENESIS];
  private readonly committedIdentity: string[] = [];
  private readonly leaders = new Map<number, string>();
  tick = 0;

  /**
   * `all` are every server that may ever exist; `voters` the voters of the initial configuration
   * and `members` all its servers (its non-voters too, which know the voters from the start).
   */
  constructor(all: readonly string[], voters: readonly string[] = all, members: readonly string[] = voters) {
    for (const id of all) {
      const known = members.includes(id) ? voters : [];
      this.nodes.set(id, {
        chain: [GENESIS],
        terms: [0],
        base: 0,
        voters: known,
        previousVoters: known,
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

  /** The identity of the committed entry at `index`, once some server applied it. */
  committedAt(index: number): string | undefined {
    return this.committedIdentity[index];
  }

  /**
   * A server persisted `hard` and `entries` (which replace its log from entries[0].index); its
   * configuration now has `voters`.
   */
  onPersist(id: string, hard: HardState | null, entries: readonly Entry[], voters: readonly string[]): void {
    const view = this.view(id);
    this.setVoters(view, voters);
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

  /** A server installed a snapshot from the leader; `stateHash` is the state it restored. */
  onSnapshotInstalled(id: string, meta: SnapshotMeta, stateHash: string): void {
    const view = this.view(id);
    if (this.committedChain[meta.index] !== stateHash) {
      this.fail(
        'snapshots hold committed state',
        `${id} installed a snapshot at ${meta.index} that is not the committed state`,
      );
    }
    view.chain = [];
    view.terms = [];
    view.chain[meta.index] = stateHash;
    view.terms[meta.index] = meta.term;
    view.base = meta.index;
    view.commit = Math.max(view.commit, meta.index);
    view.lastApplied = meta.index;
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
    for (let i = Math.max(view.commit, view.base) + 1; i <= commit; i++) {
      const h = view.chain[i] as string;
      const known = this.committedChain[i];
      if (known === undefined) {
        this.committedChain[i] = h;
        this.checkOnMajority(id, view, i, h);
      } else if (known !== h) {
        this.fail('state machine safety', `${id} committed a different entry at index ${i}`);
      }
    }
    view.commit = Math.max(view.commit, commit);
    this.checkElectableAreComplete();
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
      const identity = entryIdentity(e);
      const known = this.committedIdentity[e.index];
      if (known === undefined) this.committedIdentity[e.index] = identity;
      else if (known !== identity) {
        this.fail('state machine safety', `${id} applied ${identity} at ${e.index}; others applied ${known}`);
      }
      view.lastApplied = e.index;
    }
  }

  /** A server's state machine reached `stateHash` at `index`: it must be the committed history. */
  onStateReached(id: string, index: number, stateHash: string): void {
    if (this.committedChain[index] !== stateHash) {
      this.fail(
        'state machine safety',
        `${id} reached a state at ${index} that differs from the committed log`,
      );
    }
  }

  /** A server became leader of `term`; its log must hold every committed entry (Leader Completeness). */
  onLeader(id: string, term: number): void {
    const holder = this.leaders.get(term);
    if (holder !== undefined && holder !== id)
      this.fail('election safety', `${holder} and ${id} both led term ${term}`);
    this.leaders.set(term, id);
    const max = this.maxCommitted();
    if (max > 0 && !this.holdsCommitted(this.view(id), max)) {
      this.fail('leader completeness', `leader ${id} of term ${term} lacks committed index ${max}`);
    }
  }

  /** A server's configuration now has these voters. */
  onConfiguration(id: string, voters: readonly string[]): void {
    if (this.setVoters(this.view(id), voters)) this.checkElectableAreComplete();
  }

  private setVoters(view: NodeView, voters: readonly string[]): boolean {
    const changed = voters.length !== view.voters.length || voters.some((v) => !view.voters.includes(v));
    if (changed) {
      view.previousVoters = view.voters;
      view.voters = voters;
    }
    return changed;
  }

  /** A server restarted: its applied state is rebuilt from its snapshot and its commit from storage. */
  onRestart(id: string, snapshotIndex: number): void {
    const view = this.view(id);
    view.lastApplied = snapshotIndex;
    view.commit = view.persistedCommit;
  }

  fail(invariant: string, detail: string): void {
    this.violations.push({ invariant, detail, tick: this.tick });
  }

  /**
   * A newly committed entry must be on a majority of the committing server's voters (thesis
   * §4.1). The configuration may have changed since the last observation, so either the current
   * or the previous one may be the one the commit was counted in.
   */
  private checkOnMajority(id: string, view: NodeView, index: number, hash: string): void {
    const onMajority = (voters: readonly string[]) =>
      voters.filter((v) => {
        const other = this.view(v);
        return other.base >= index || other.chain[index] === hash;
      }).length >
      voters.length / 2;
    if (!onMajority(view.voters) && !onMajority(view.previousVoters)) {
      this.fail(
        'committed is on a majority',
        `index ${index} committed by ${id} is not on a majority of its voters`,
      );
    }
  }

  /**
   * Leader Completeness in its strongest form: any server that could win an election now (a
   * majority of its configuration's voters have persisted logs no more up to date than its own,
   * Raft §5.4.1) must already hold every committed entry. This catches an unsafe commit the moment
   * it happens, before a later leader actually overwrites the entry (the Raft paper's Figure 8),
   * and an unsafe membership change the moment two configurations stop overlapping.
   */
  private checkElectableAreComplete(): void {
    const max = this.maxCommitted();
    if (max <= 0) return;
    for (const [id, candidate] of this.nodes) {
      if (!candidate.voters.includes(id) || this.holdsCommitted(candidate, max)) continue;
      const votes = candidate.voters.filter((v) => atLeastAsUpToDate(candidate, this.view(v))).length;
      if (votes > candidate.voters.length / 2) {
        this.fail(
          'leader completeness',
          `${id} lacks committed index ${max} yet ${votes} voters would vote for it`,
        );
      }
    }
  }

  /** True when `view`'s persisted log holds the committed entry at `index` (and so every one before). */
  private holdsCommitted(view: NodeView, index: number): boolean {
    const at = Math.max(index, view.base);
    return view.chain[at] !== undefined && view.chain[at] === this.committedChain[at];
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
