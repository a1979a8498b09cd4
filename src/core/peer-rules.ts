import { tryDecodeConfiguration, validConfiguration } from './configuration.js';
import { isFromLeader } from './term-rules.js';
import type {
  AppendRequest,
  Configuration,
  Entry,
  Message,
  NodeId,
  Role,
  SnapshotMeta,
  SnapshotRequest,
} from './types.js';

/**
 * What a peer's message may not do (design §7, "Peer input never stops a member"). A message
 * that breaks one of these rules cannot come from a correct member, so the core drops it before
 * it touches any state, and counts it under the reason named here. Nothing from the wire may
 * reach an `Error` thrown by the core: those are kept for our own bugs and our own storage.
 */
export type PeerDropReason =
  /** A number that is not a non-negative safe integer, or a field of the wrong kind. */
  | 'malformed'
  /** Entries not numbered prevIndex+1, +2, …, or whose terms fall below prevTerm, go backwards, or exceed the sender's term (Raft §5.3: the Log Matching property). */
  | 'malformedEntries'
  /** A configuration entry that does not decode, or names no voter. */
  | 'badConfiguration'
  /** More entries than any member sends in one AppendEntries. */
  | 'tooManyEntries'
  /** A snapshot whose term exceeds the sender's, whose configuration is invalid, or that starts after its own index. */
  | 'badSnapshot'
  /** A leader's message at our term from a server other than the leader we know (Raft §5.2: at most one leader per term). */
  | 'secondLeader'
  /** An acknowledgement for an index above the leader's log: no follower can hold what was never sent. */
  | 'indexBeyondLog'
  /** A message only the current leader may send (timeoutNow, thesis §3.10). */
  | 'notFromLeader'
  /** A request only a member of the configuration may make. */
  | 'notMember';

/**
 * The most entries one AppendEntries may carry: the node's `maxAppendEntries` cannot exceed it,
 * so no correct leader sends more, whatever each member is configured with.
 */
export const MAX_ENTRIES_PER_APPEND = 1024;

const uint = (n: unknown): boolean => Number.isSafeInteger(n) && (n as number) >= 0;

/** The numeric fields of each message type; all must be non-negative safe integers. */
const NUMBERS: { readonly [K in Message['type']]: readonly string[] } = {
  voteRequest: ['lastLogIndex', 'lastLogTerm'],
  voteResponse: [],
  appendRequest: ['prevIndex', 'prevTerm', 'commit'],
  appendResponse: ['index', 'hintIndex', 'hintTerm'],
  heartbeatRequest: ['commit', 'context'],
  heartbeatResponse: ['context'],
  snapshotRequest: [],
  timeoutNow: [],
  readIndexRequest: ['requestId'],
  readIndexResponse: ['requestId', 'index'],
};

/**
 * Why `m` breaks a rule that holds whatever the receiver's state, or null when it breaks none.
 * Rules that depend on the receiver's role and log are checked by the core as it handles `m`.
 */
export function messageProblem(m: Message): PeerDropReason | null {
  if (typeof m.from !== 'string' || !uint(m.term)) return 'malformed';
  const fields = m as unknown as Record<string, unknown>;
  if (NUMBERS[m.type]?.some((k) => !uint(fields[k])) !== false) return 'malformed';
  if (m.type === 'appendRequest') return appendProblem(m);
  if (m.type === 'snapshotRequest') return snapshotProblem(m.snapshot, m.term);
  return null;
}

function appendProblem(m: AppendRequest): PeerDropReason | null {
  if (!Array.isArray(m.entries)) return 'malformed';
  if (m.entries.length > MAX_ENTRIES_PER_APPEND) return 'tooManyEntries';
  if (m.prevTerm > m.term) return 'malformedEntries';
  let term = m.prevTerm;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as Entry;
    if (!isEntryShape(e)) return 'malformed';
    // Raft §5.3: a leader's log is numbered without gaps and its terms never decrease; every entry
    // it sends was created in its term or before.
    if (e.index !== m.prevIndex + 1 + i || e.term < term || e.term > m.term) return 'malformedEntries';
    term = e.term;
    if (e.type === 'config' && tryDecodeConfiguration(e.data) === null) return 'badConfiguration';
  }
  return null;
}

function isEntryShape(e: Entry): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    uint(e.index) &&
    uint(e.term) &&
    (e.type === 'command' || e.type === 'noop' || e.type === 'config' || e.type === 'barrier') &&
    e.data instanceof Uint8Array
  );
}

function snapshotProblem(s: SnapshotMeta, senderTerm: number): PeerDropReason | null {
  if (typeof s !== 'object' || s === null) return 'malformed';
  if (!uint(s.index) || !uint(s.term) || !uint(s.configIndex)) return 'malformed';
  if (s.term > senderTerm || s.configIndex > s.index || !validConfiguration(s.config)) return 'badSnapshot';
  return null;
}

/** What {@link currentTermProblem} needs to know about the receiver. */
export interface ReceiverView {
  readonly id: NodeId;
  readonly term: number;
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly lastIndex: number;
  readonly config: Configuration;
}

/**
 * The rules that depend on the receiver's state, for a message of the receiver's own term
 * (Raft §5.2: at most one leader per term; §5.3: a follower acknowledges only what was sent).
 */
export function currentTermProblem(m: Message, self: ReceiverView): PeerDropReason | null {
  if (isFromLeader(m)) {
    const other = self.role === 'leader' || (self.leader !== null && self.leader !== m.from);
    return other ? 'secondLeader' : null;
  }
  switch (m.type) {
    case 'appendResponse':
      // Success or rejection, `index` is an index the leader sent; it never exceeds its log.
      return self.role === 'leader' && m.index > self.lastIndex ? 'indexBeyondLog' : null;
    case 'timeoutNow':
      return m.from === self.leader ? null : 'notFromLeader';
    case 'readIndexRequest':
      return self.config.servers.some((s) => s.id === m.from) ? null : 'notMember';
    default:
      return null;
  }
}

/**
 * What to do with the data of snapshot request `m`, decided before a byte of it is stored:
 * - `refuse`: the core would not install it (a stale term, another leader of our term, a
 *   malformed request), so its data must not be written;
 * - `skip`: the core would answer it without the data (it covers nothing we have not committed);
 * - `store`: the core may install it; store the data, then step the request.
 * The core still decides for good when the request is stepped, since the term may move meanwhile.
 */
export type SnapshotVerdict = 'refuse' | 'skip' | 'store';

/** See {@link SnapshotVerdict}; `committed` and `termAt` describe the receiver's log. */
export function snapshotVerdict(
  m: SnapshotRequest,
  self: ReceiverView,
  committed: number,
  termAt: (index: number) => number | undefined,
): SnapshotVerdict {
  if (m.to !== self.id || m.from === self.id || messageProblem(m) !== null) return 'refuse';
  // Raft Figure 2, InstallSnapshot receiver rule 1: reply immediately if term < currentTerm.
  if (m.term < self.term) return 'refuse';
  if (m.term === self.term && currentTermProblem(m, self) !== null) return 'refuse';
  const { index, term } = m.snapshot;
  if (index <= committed || termAt(index) === term) return 'skip';
  return 'store';
}
