import { RaftCore } from '../../src/core/index.js';

/**
 * A core that breaks Raft §5.4.2 on purpose: it commits entries of earlier terms by counting
 * replicas (the Raft paper's Figure 8 mistake). The simulation must catch it.
 */
export class CommitsEarlierTermsCore extends RaftCore {
  protected override canCommitAt(index: number): boolean {
    return this.log.term(index) !== undefined;
  }
}
