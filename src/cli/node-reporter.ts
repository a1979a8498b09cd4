import type { RaftBinding } from '../binding/index.js';

/** How often the member's leader is checked for changes to print. */
const LEADER_POLL_MS = 50;

/**
 * Prints the member's view of the group as it changes: the members once, then every join and
 * leave (from the committed configuration), every change of leader, and a local failure that
 * stopped the member. Returns a stop function.
 */
export function reportChanges(
  binding: Pick<RaftBinding, 'id' | 'status' | 'observeMembershipChange'>,
  log: (line: string) => void,
): () => void {
  const controller = new AbortController();
  const initial = binding.status();
  // A member that has just bootstrapped knows its members once its first entry commits: the observer prints them then.
  if (initial.members.length > 0) log(`members: ${initial.members.map((m) => m.id).join(', ')}`);
  // The observer replays the current members first: they were printed above already.
  const replay = new Set(initial.members.map((m) => m.id));
  void (async () => {
    try {
      for await (const change of binding.observeMembershipChange({ signal: controller.signal })) {
        const replayed = replay.delete(change.id);
        if (change.joined && replayed) continue;
        log(change.joined ? `member ${change.id} joined` : `member ${change.id} left`);
      }
    } catch (err) {
      if (!controller.signal.aborted) log(`membership observer ended: ${(err as Error).message}`);
    }
  })();

  let leader: string | null | undefined;
  let stopReported = false;
  const poll = (): void => {
    let status: ReturnType<typeof binding.status>;
    try {
      status = binding.status();
    } catch {
      return; // closing
    }
    if (status.role === 'stopped' && !stopReported) {
      stopReported = true;
      log(`stopped after a failure: ${status.stopCause ?? 'unknown'}; restart the member`);
    }
    if (status.leader === leader) return;
    // Before the first leader is known there is nothing to report.
    if (leader === undefined && status.leader === null) return;
    leader = status.leader;
    if (leader === null) log(`no leader (term ${status.term})`);
    else log(`leader: ${leader}${leader === binding.id ? ' (this member)' : ''}, term ${status.term}`);
  };
  poll();
  const timer = setInterval(poll, LEADER_POLL_MS);
  return () => {
    clearInterval(timer);
    controller.abort();
  };
}
