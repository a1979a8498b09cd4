import { type Message, RaftCore } from '../../src/core/index.js';

/**
 * A core that breaks Raft §5.4.2 on purpose: it commits entries of earlier terms by counting
 * replicas (the Raft paper's Figure 8 mistake). The simulation must catch it.
 */
export class CommitsEarlierTermsCore extends RaftCore {
  protected override canCommitAt(index: number): boolean {
    return this.log.term(index) !== undefined;
  }
}

/**
 * A server that never takes the leader's log: it drops every append and snapshot it is sent. As a
 * non-voter it blocks no commit, so only the convergence check after the heal can notice it.
 */
export class IgnoresLogCore extends RaftCore {
  override step(m: Message): void {
    if (m.type === 'appendRequest' || m.type === 'snapshotRequest') return;
    super.step(m);
  }
}
