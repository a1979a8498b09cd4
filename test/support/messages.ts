import type {
  AppendRequest,
  HeartbeatRequest,
  Message,
  MessageType,
  SnapshotRequest,
} from '../../src/core/types.js';

/** Every kind of the core's Message union; the Record type fails to compile when the core adds one. */
const KIND_SET: Record<MessageType, true> = {
  voteRequest: true,
  voteResponse: true,
  appendRequest: true,
  appendResponse: true,
  heartbeatRequest: true,
  heartbeatResponse: true,
  snapshotRequest: true,
  timeoutNow: true,
  readIndexRequest: true,
  readIndexResponse: true,
};

/** The kinds of {@link Message}, for checking that a list covers them all. */
export const MESSAGE_KINDS = Object.keys(KIND_SET) as MessageType[];

/** A heartbeat whose `commit` numbers it, for ordering checks. */
export function heartbeat(from: string, to: string, commit = 0): HeartbeatRequest {
  return { type: 'heartbeatRequest', from, to, term: 3, commit, context: 0 };
}

/** An append request carrying entries of every type, with binary data. */
export function appendWithEntries(from: string, to: string): AppendRequest {
  return {
    type: 'appendRequest',
    from,
    to,
    term: 7,
    prevIndex: 10,
    prevTerm: 6,
    commit: 9,
    entries: [
      { index: 11, term: 7, type: 'command', data: new Uint8Array([0, 1, 2, 254, 255]) },
      { index: 12, term: 7, type: 'noop', data: new Uint8Array(0) },
      { index: 13, term: 7, type: 'config', data: new TextEncoder().encode('{"servers":[]}') },
      { index: 14, term: 7, type: 'barrier', data: new Uint8Array(0) },
    ],
  };
}

/** A snapshot request with a two-member configuration. */
export function snapshotRequest(from: string, to: string, index = 100): SnapshotRequest {
  return {
    type: 'snapshotRequest',
    from,
    to,
    term: 4,
    snapshot: {
      index,
      term: 3,
      configIndex: 42,
      config: {
        servers: [
          { id: from, suffrage: 'voter' },
          { id: to, suffrage: 'nonvoter' },
        ],
      },
    },
  };
}

/** One message of every kind in the core's {@link Message} union, in a fixed order. */
export function oneOfEachKind(from: string, to: string): Message[] {
  return [
    {
      type: 'voteRequest',
      from,
      to,
      term: 5,
      preVote: true,
      lastLogIndex: 20,
      lastLogTerm: 4,
      transfer: false,
    },
    { type: 'voteResponse', from, to, term: 5, preVote: false, granted: true },
    appendWithEntries(from, to),
    { type: 'appendResponse', from, to, term: 7, success: false, index: 10, hintIndex: 8, hintTerm: 5 },
    { type: 'heartbeatRequest', from, to, term: 7, commit: 14, context: 3 },
    { type: 'heartbeatResponse', from, to, term: 7, context: 3 },
    snapshotRequest(from, to),
    { type: 'timeoutNow', from, to, term: 8 },
    { type: 'readIndexRequest', from, to, term: 8, requestId: 77 },
    { type: 'readIndexResponse', from, to, term: 8, requestId: 77, ok: true, index: 14 },
  ];
}

/** `length` bytes of a position-dependent pattern, starting at stream offset `offset`. */
export function patternBytes(offset: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const at = offset + i;
    bytes[i] = (at * 31 + (at >>> 8) * 7 + 13) & 0xff;
  }
  return bytes;
}
