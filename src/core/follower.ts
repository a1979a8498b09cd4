import type { ConfigTracker } from './config-tracker.js';
import type { RaftLog } from './log.js';
import type { AppendRequest, MessageDraft, SnapshotMeta, SnapshotRequest } from './types.js';

function accept(to: string, index: number): MessageDraft {
  return { type: 'appendResponse', to, success: true, index, hintIndex: 0, hintTerm: 0 };
}

/**
 * The follower side of AppendEntries (Raft §5.3): check consistency, reconcile the log, learn the
 * commit index, and answer. A rejection carries a hint so the leader can skip a term at a time.
 */
export function handleAppend(log: RaftLog, config: ConfigTracker, m: AppendRequest): MessageDraft {
  if (m.prevIndex < log.committed) {
    // Everything up to our commit index matches any current leader (Leader Completeness).
    return accept(m.from, log.committed);
  }
  const rewritesConfig = m.entries.some((e) => e.index <= config.index && log.term(e.index) !== e.term);
  const lastNew = log.tryAppend(m.prevIndex, m.prevTerm, m.entries);
  if (lastNew === undefined) {
    const hint = log.findConflictByTerm(Math.min(m.prevIndex, log.lastIndex()), m.prevTerm);
    return {
      type: 'appendResponse',
      to: m.from,
      success: false,
      index: m.prevIndex,
      hintIndex: hint.index,
      hintTerm: hint.term,
    };
  }
  // Configurations take effect when appended (thesis §4.1), and a truncation can undo one.
  if (rewritesConfig || m.entries.some((e) => e.type === 'config')) config.refresh(log);
  log.commitTo(Math.min(m.commit, lastNew));
  return accept(m.from, lastNew);
}

/**
 * The follower side of InstallSnapshot. Returns the answer and, when the snapshot replaces the
 * log, the snapshot for the runtime to persist and restore.
 */
export function handleSnapshot(
  log: RaftLog,
  config: ConfigTracker,
  m: SnapshotRequest,
): { response: MessageDraft; installed: SnapshotMeta | null } {
  const snap = m.snapshot;
  if (snap.index <= log.committed) return { response: accept(m.from, log.committed), installed: null };
  if (log.matchTerm(snap.index, snap.term)) {
    // Our log already holds the snapshot's last entry, so it matches the leader up to there.
    log.commitTo(snap.index);
    return { response: accept(m.from, snap.index), installed: null };
  }
  log.restore(snap.index, snap.term);
  config.restored(snap);
  return { response: accept(m.from, snap.index), installed: snap };
}
