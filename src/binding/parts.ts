import type { Clock } from '../clock.js';
import type { RandomBytes, RandomSource } from '../core/random.js';
import type { RaftStorage } from '../storage/types.js';
import type { Transport } from '../transport/types.js';

/**
 * What a {@link RaftBinding} is built from, for callers that compose it themselves: each part
 * defaults to the real one (LevelDB at `options.store`, an MQTT transport on `options.broker`, the
 * system clock and a cryptographic random source). Tests and the stack simulation run a binding
 * on the in-memory network, a memory store and simulated time this way.
 */
export interface BindingParts {
  /** Opens this member's store; the binding closes it on close(). */
  readonly openStorage?: () => Promise<RaftStorage>;
  /**
   * Makes this member's transport. Group identity (group ids, the live-member probe that refuses
   * a duplicate id or a second bootstrap) belongs to the MQTT transport: with a transport of your
   * own, nothing is probed and no group id is carried.
   */
  readonly createTransport?: () => Transport;
  readonly clock?: Clock;
  /** The node's randomness (election timeouts). */
  readonly random?: RandomSource;
  /** Bytes of the identities a process draws: its incarnation, its proposal sessions, a new group's id. */
  readonly randomBytes?: RandomBytes;
}
