export {
  coreTiming,
  parseRaftConfig,
  type RaftConfig,
  type RaftConfigInput,
  RaftConfigSchema,
} from './config.js';
export type { CallOptions } from './deadline.js';
export type { RaftEvents } from './events.js';
export type { ChangeOptions } from './proposer.js';
export { Raft, type RaftOptions, type RaftStats } from './raft.js';
