import type { Entry, SnapshotMeta } from './core/types.js';
import type { SnapshotSink } from './storage/types.js';

/**
 * A point-in-time copy of the FSM's state, taken by {@link Fsm.snapshot}. `persist` may run while
 * the FSM keeps applying new entries, so it must not read live state.
 */
export interface FsmSnapshot {
  /** Writes the state into `sink` in chunks. Do not close or cancel the sink; the node does. */
  persist(sink: SnapshotSink): Promise<void>;
  /** Frees resources; called after persist, whether it succeeded or not. */
  release?(): void;
}

/**
 * The replicated state machine. The node calls these one at a time, never concurrently, in log
 * order. `apply` sees only committed `command` entries; its result resolves the `apply()` promise
 * of the proposer on the leader. Apply must not wait on observers: anything that could block
 * consensus belongs in a queue of its own.
 */
export interface Fsm {
  apply(entry: Entry): unknown | Promise<unknown>;
  /**
   * Captures the current state. The node calls it between two applies and goes on applying at
   * once, so the capture must reflect the state at the moment of the call (copy it, or switch to
   * copy-on-write, before returning or awaiting anything).
   */
  snapshot(): FsmSnapshot | Promise<FsmSnapshot>;
  /**
   * Replaces the whole state with a snapshot's data. The node passes the snapshot's metadata, so
   * the FSM knows the index its state now reflects.
   */
  restore(chunks: AsyncIterable<Uint8Array>, snapshot?: SnapshotMeta): Promise<void>;
}
