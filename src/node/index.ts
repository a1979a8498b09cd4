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
export { type FollowerProgress, Raft, type RaftOptions } from './raft.js';
export type { RaftStats } from './stats.js';
