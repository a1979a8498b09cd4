/**
 * mqtt-raft: Raft consensus for TypeScript. This entry point grows with the library: the pure
 * Raft core, the Raft node, its stores and transports, and the error type.
 */
export * from './binding/index.js';
export { type Clock, type ClockTimer, systemClock } from './clock.js';
export * from './core/index.js';
export { isRaftError, RaftError, type RaftErrorCode, type RaftErrorOptions } from './errors.js';
export type { Fsm, FsmSnapshot } from './fsm.js';
export { type Logger, type LogLevel, silentLogger } from './logger.js';
export * from './metrics/index.js';
export * from './node/index.js';
export * from './storage/index.js';
export * from './transport/index.js';
