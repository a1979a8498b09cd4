import { type ConfChange, type RaftCore, votersOf } from '../../src/core/index.js';
import type { InvariantMonitor } from './monitor.js';
import type { SimRandom } from './network.js';
import type { SimNode } from './node.js';

const encoder = new TextEncoder();

/** A proposal some leader accepted: where it would live and what it was. */
export interface AcceptedProposal {
  readonly index: number;
  readonly term: number;
  readonly identity: string;
}

/** A ReadIndex read in flight: what it must at least observe. */
interface PendingRead {
  readonly node: string;
  /** The highest index known committed anywhere when the read began. */
  readonly mustInclude: number;
}

/** How often each client operation fired and how it ended. */
export interface WorkloadCounts {
  proposals: number;
  accepted: number;
  confChanges: Record<ConfChange['type'], number>;
  confChangesAccepted: number;
  /** Removals or demotions of the leader itself. */
  leaderRemovals: number;
  transfers: number;
  transfersAccepted: number;
  reads: number;
  readsServed: number;
  readsFailed: number;
}

/**
 * The clients of the simulated cluster: proposals from any server (half of them forwarded to the
 * leader named in a refusal), membership changes, leadership transfers and ReadIndex reads, each
 * checked against the monitor's view of what is committed.
 */
export class Workload {
  readonly accepted: AcceptedProposal[] = [];
  readonly counts: WorkloadCounts = {
    proposals: 0,
    accepted: 0,
    confChanges: { addVoter: 0, addNonvoter: 0, demoteVoter: 0, removeServer: 0 },
    confChangesAccepted: 0,
    leaderRemovals: 0,
    transfers: 0,
    transfersAccepted: 0,
    reads: 0,
    readsServed: 0,
    readsFailed: 0,
  };
  private readonly reads = new Map<number, PendingRead>();
  private seq = 0;

  constructor(
    private readonly random: SimRandom,
    private readonly nodes: readonly SimNode[],
    private readonly monitor: InvariantMonitor,
  ) {}

  propose(): void {
    const node = this.pickUp();
    if (node?.core == null) return;
    this.counts.proposals++;
    const data = `${node.id}#${++this.seq}`;
    let result = node.core.propose(encoder.encode(data));
    // Half the clients forward to the leader the server named, as the runtime's forwarding does.
    const hinted = result.accepted ? undefined : this.byId(result.leader);
    if (hinted?.core != null && this.random.float() < 0.5) result = hinted.core.propose(encoder.encode(data));
    if (result.accepted) {
      this.counts.accepted++;
      this.accepted.push({
        index: result.index,
        term: result.term,
        identity: `${result.term}/command/${data}`,
      });
    }
  }

  /**
   * Asks the current leader for a random membership change: add a non-member (as voter or
   * non-voter), promote a non-voter, demote a voter, or remove any member, the leader included.
   * `allowShrink` is false when neither pre-vote nor check-quorum protects the group from removed
   * servers (without them, a removed server's elections are allowed to disrupt it, thesis §4.2.3).
   */
  changeMembership(allowShrink: boolean): string | null {
    const leader = this.leader();
    if (leader === null) return null;
    const config = leader.configuration;
    const members = config.servers.map((s) => s.id);
    const outsiders = this.nodes.map((n) => n.id).filter((id) => !members.includes(id));
    const voters = votersOf(config);
    const nonvoters = config.servers.filter((s) => s.suffrage !== 'voter').map((s) => s.id);
    const options: ConfChange[] = [];
    for (const id of outsiders) options.push({ type: 'addVoter', id }, { type: 'addNonvoter', id });
    for (const id of nonvoters) options.push({ type: 'addVoter', id });
    if (allowShrink && voters.length > 2) {
      for (const id of voters) options.push({ type: 'demoteVoter', id }, { type: 'removeServer', id });
    }
    if (allowShrink) for (const id of nonvoters) options.push({ type: 'removeServer', id });
    const change = options[this.random.int(options.length)];
    if (change === undefined) return null;
    this.counts.confChanges[change.type]++;
    const guarded =
      this.random.float() < 0.3 ? { ...change, prevIndex: leader.status().configurationIndex } : change;
    const result = leader.proposeConfChange(guarded);
    if (result.accepted) {
      this.counts.confChangesAccepted++;
      if (change.id === leader.id && change.type !== 'addVoter') this.counts.leaderRemovals++;
    }
    return `${change.type} ${change.id} on ${leader.id}: ${result.accepted ? `index ${result.index}` : result.code}`;
  }

  transfer(): string | null {
    const leader = this.leader();
    if (leader === null) return null;
    const voters = votersOf(leader.configuration).filter((id) => id !== leader.id);
    const target = this.random.float() < 0.3 ? undefined : voters[this.random.int(voters.length)];
    this.counts.transfers++;
    const result = leader.transferLeadership(target);
    if (result.accepted) this.counts.transfersAccepted++;
    return `transfer from ${leader.id} to ${target ?? 'any'}: ${result.accepted ? 'started' : result.code}`;
  }

  /** Starts a ReadIndex read on a random server. */
  read(): void {
    const node = this.pickUp();
    if (node?.core == null) return;
    this.counts.reads++;
    const requestId = ++this.seq;
    this.reads.set(requestId, { node: node.id, mustInclude: this.monitor.maxCommitted() });
    node.core.readIndex(requestId);
  }

  /**
   * A server reported read outcomes. A read may be served at the reported index, so that index must
   * cover every write committed before the read began (linearizability of ReadIndex).
   */
  readsAnswered(
    node: string,
    states: ReadonlyArray<{ requestId: number; index: number; ok: boolean }>,
  ): void {
    for (const state of states) {
      const read = this.reads.get(state.requestId);
      if (read === undefined || read.node !== node) continue;
      this.reads.delete(state.requestId);
      if (!state.ok) {
        this.counts.readsFailed++;
        continue;
      }
      this.counts.readsServed++;
      if (state.index < read.mustInclude) {
        this.monitor.fail(
          'linearizable reads',
          `read ${state.requestId} on ${node} served at ${state.index}, but ${read.mustInclude} was committed before it began`,
        );
      }
    }
  }

  /** Reads whose server crashed are lost with it. */
  forgetReadsOf(node: string): void {
    for (const [id, read] of this.reads) if (read.node === node) this.reads.delete(id);
  }

  /** The leader with the highest term among running servers, or null. */
  leader(): RaftCore | null {
    let best: RaftCore | null = null;
    for (const n of this.nodes) {
      const core = n.core;
      if (core?.role === 'leader' && (best === null || core.term > best.term)) best = core;
    }
    return best;
  }

  private pickUp(): SimNode | undefined {
    const up = this.nodes.filter((n) => n.up);
    return up[this.random.int(up.length)];
  }

  private byId(id: string | null): SimNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }
}
