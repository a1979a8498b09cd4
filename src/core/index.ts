export * from './configuration.js';
export type { CoreOptions, ResolvedCoreOptions } from './options.js';
export { resolveCoreOptions } from './options.js';
export type { CoreInitialState, CoreStatus, ProposeResult } from './raft.js';
export { RaftCore } from './raft.js';
export type { RandomSource } from './random.js';
export { seededRandom } from './random.js';
export type { ReadState, Ready, SoftState } from './ready.js';
export type * from './types.js';
