/**
 * mqtt-raft: Raft consensus for TypeScript. This entry point grows with the library; today it
 * exports the pure Raft core and the error type.
 */
export * from './core/index.js';
export { isRaftError, RaftError, type RaftErrorCode, type RaftErrorOptions } from './errors.js';
