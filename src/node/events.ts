import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock.js';
import type { Configuration, NodeId, Role } from '../core/types.js';
import type { RaftErrorCode } from '../errors.js';

/** Events a {@link Raft} node emits, with their payloads. */
export interface RaftEvents {
  /** The node's role changed. */
  stateChange: { previous: Role; current: Role; term: number };
  /** The node learned of a new leader, or lost track of one (`leader: null`). */
  leaderChange: { leader: NodeId | null; term: number };
  /** The configuration in force changed (it takes effect when appended, before it commits). */
  peerChange: { configuration: Configuration; index: number };
  /** A configuration became committed and applied here (from the log or from a snapshot). */
  configurationCommitted: { configuration: Configuration; index: number };
  /** As leader, a peer has not answered for a heartbeat timeout. */
  heartbeatFailed: { peer: NodeId; lastContact: number };
  /** As leader, a peer that had failed answers again. */
  heartbeatResumed: { peer: NodeId };
  /** A snapshot of the FSM was stored (`bytes` of data, captured and written in `durationMs`). */
  snapshotTaken: { index: number; bytes: number; durationMs: number };
  /** A snapshot from the leader was installed: the FSM was restored from it in `durationMs`. */
  snapshotInstalled: { index: number; bytes: number; durationMs: number };
  /** Taking a snapshot failed; the log stays as it was and a later snapshot tries again. */
  snapshotFailed: { error: unknown };
  /**
   * A call of `apply` made here settled, `durationMs` after it was made: `applied` once applied
   * on the leader, else the code of the error it failed with (`UNKNOWN` for an error without one).
   */
  proposalSettled: { outcome: 'applied' | RaftErrorCode | 'UNKNOWN'; durationMs: number };
}

/** An EventEmitter whose event names and payloads are checked by the compiler. */
export class TypedEmitter<Events extends object> {
  private readonly emitter = new EventEmitter();

  /** `clock` is the time of the subclass's waits and timestamps. */
  constructor(protected readonly clock: Clock = systemClock) {}

  on<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.on(event, listener);
    return this;
  }

  off<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.off(event, listener);
    return this;
  }

  once<K extends keyof Events & string>(event: K, listener: (payload: Events[K]) => void): this {
    this.emitter.once(event, listener);
    return this;
  }

  /** Delivers `payload` to listeners; a throwing listener is reported, never allowed to break the node. */
  protected emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    // rawListeners keeps once() wrappers, which remove themselves when called.
    for (const listener of this.emitter.rawListeners(event)) {
      try {
        (listener as (p: Events[K]) => void)(payload);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
