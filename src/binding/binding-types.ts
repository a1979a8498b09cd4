/** The types of the calls of RaftBinding (raft-binding.ts). */
/** Per-call limits of binding operations. */
export interface ProposeOptions {
  signal?: AbortSignal;
  /** Give up after this long; defaults to the binding's `rpcTimeout`. */
  timeoutMs?: number;
}

/** Read modes: `local` reads this member's state; `linearizable` first confirms it is up to date. */
export type Consistency = 'local' | 'linearizable';

/** A member's view of itself and the group. */
export interface BindingStatus {
  readonly id: string;
  readonly role: string;
  readonly leader: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: ReadonlyArray<{ id: string; suffrage: string }>;
  /** With role `stopped`: the local failure (a storage write, the state machine) that stopped it. */
  readonly stopCause?: string;
}
