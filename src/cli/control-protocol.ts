/**
 * The control protocol between a running member (`mqtt-raft node`) and the client commands, over a
 * local stream socket: newline-delimited JSON, one request line answered by one response line, in
 * order; `watch` answers with a stream of lines instead. Documented in docs/cli.md. The member
 * validates requests with the schemas of control-schemas.ts.
 */

/** The library's limits on keys (UTF-16 code units) and values (bytes), as the member enforces them. */
export const MAX_KEY_LENGTH = 1024;
export const MAX_VALUE_BYTES = 1024 * 1024;

/**
 * Longest request line a member reads; a longer one is refused and the connection closed. Any key
 * and value within the library's limits fit, in either encoding, even as text with every character
 * escaped by JSON (`\u0001`: six bytes for one), plus room for the other fields.
 */
export const MAX_REQUEST_BYTES = 6 * (MAX_VALUE_BYTES + MAX_KEY_LENGTH) + 64 * 1024;

/** Default deadline of `set` and `del` requests that carry no `timeoutMs`. */
export const DEFAULT_PROPOSE_TIMEOUT_MS = 5000;

/** How a value travels in JSON: UTF-8 text as is, any other bytes in base64. */
export type Encoding = 'utf8' | 'base64';

/** Read modes of `get` and `state`, as `RaftBinding.get` takes them. */
export type Consistency = 'local' | 'linearizable';

/** Every request a member accepts. `id`, when given, is echoed in the response. */
export type ControlRequest = { id?: string | number | undefined } & (
  | {
      cmd: 'set';
      key: string;
      value: string;
      encoding?: Encoding | undefined;
      timeoutMs?: number | undefined;
    }
  | { cmd: 'del' | 'delete'; key: string; timeoutMs?: number | undefined }
  | { cmd: 'get'; key: string; consistency?: Consistency | undefined }
  | { cmd: 'state'; consistency?: Consistency | undefined }
  | { cmd: 'members' }
  | { cmd: 'remove-member'; member: string; force?: boolean | undefined; timeoutMs?: number | undefined }
  | { cmd: 'add-nonvoter' | 'promote'; member: string; timeoutMs?: number | undefined }
  | { cmd: 'demote'; member: string; force?: boolean | undefined; timeoutMs?: number | undefined }
  | { cmd: 'transfer-leadership'; member?: string | undefined; timeoutMs?: number | undefined }
  | { cmd: 'status' }
  | { cmd: 'watch'; target?: 'state' | 'members' | undefined; fromIndex?: number | undefined }
);

/** A value as it appears in responses and change lines. */
export interface WireValue {
  value: string;
  encoding: Encoding;
}

/** A refusal: a RaftError code (`TIMEOUT`, `NOT_LEADER`, `SHUTDOWN`, …) or `BAD_REQUEST` / `INTERNAL`. */
export interface ControlErrorBody {
  code: string;
  message: string;
  retryable?: boolean;
  /** The operation may still take effect (a proposal that timed out may still commit). */
  indefinite?: boolean;
}

/** How a member is doing, as the leader sees it (`RaftBinding.members()`). */
export interface WireHealth {
  /** Milliseconds since the leader last heard from it; null when never. */
  lastContactMs: number | null;
  matchIndex: number;
  /** Entries behind the leader's last index. */
  lag: number;
}

/** One member in `members` responses; `health` is null unless the member asked leads. */
export interface WireMember {
  id: string;
  /** `voter`, `nonvoter` or `staging`. */
  suffrage: string;
  leader: boolean;
  health: WireHealth | null;
}

/** A member's status, as `RaftBinding.status()` reports it. */
export interface WireStatus {
  id: string;
  role: string;
  leader: string | null;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  members: Array<{ id: string; suffrage: string }>;
  /** With role `stopped`: the local failure that stopped the member. */
  stopCause?: string;
}

/**
 * A state change in a `watch` stream, with its log index (for a replayed `set`, the index the
 * replayed state reflects).
 */
export type WireChange = { index?: number } & (
  | ({ op: 'set'; key: string } & WireValue)
  | { op: 'delete'; key: string }
);

/**
 * Any line a member sends. Successful responses carry the fields of their command:
 * `set`/`del`: `index`; `get`: `found` and, when found, `value` and `encoding`; `state`: `entries`,
 * the `index` they reflect and the group's `settings` when it has any; `members`: `members`; `remove-member`, `add-nonvoter`, `promote`,
 * `demote`: `index` and `warnings`; `transfer-leadership`: `leader`; `status`: `status`; `watch`:
 * first `watching` (with the replay's `index` for the state), then one `change` or `member` per
 * line, with one `live: true` line between the replay and the live changes.
 */
export type ControlResponse =
  | {
      id?: string | number;
      ok: true;
      index?: number;
      found?: boolean;
      value?: string;
      encoding?: Encoding;
      entries?: Array<{ key: string } & WireValue>;
      /** `state`: the group's own settings (a voter budget), when it has any; a backup keeps them. */
      settings?: Array<{ key: string } & WireValue>;
      members?: WireMember[];
      /** Membership changes: what the operator should know, such as a group without fault tolerance. */
      warnings?: string[];
      /** `transfer-leadership`: the new leader, null when none is known yet. */
      leader?: string | null;
      status?: WireStatus;
      watching?: 'state' | 'members';
      live?: true;
      change?: WireChange;
      member?: { id: string; joined: boolean };
    }
  | { id?: string | number; ok: false; error: ControlErrorBody };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes to JSON: as text when they are valid UTF-8, else base64. */
export function encodeValue(bytes: Uint8Array): WireValue {
  try {
    return { value: strictUtf8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { value: Buffer.from(bytes).toString('base64'), encoding: 'base64' };
  }
}

/** JSON to bytes; the inverse of {@link encodeValue}. */
export function decodeValue(value: string, encoding: Encoding): Uint8Array {
  return encoding === 'base64'
    ? new Uint8Array(Buffer.from(value, 'base64'))
    : new TextEncoder().encode(value);
}
