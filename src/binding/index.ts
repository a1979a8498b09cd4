/** The state-sync binding: a replicated key-value state over Raft and MQTT. */
export type { Input } from './input.js';
export { InputSchema, parseInput } from './input.js';
export type {
  MemberCallOptions,
  MemberChangeResult,
  MemberHealth,
  MemberInfo,
  RemoveMemberOptions,
} from './members.js';
export type { MembershipChange } from './membership-observer.js';
export { type BindingOptions, BindingOptionsSchema, parseBindingOptions } from './options.js';
export type { BindingParts } from './parts.js';
export { type BindingStatus, type Consistency, type ProposeOptions, RaftBinding } from './raft-binding.js';
export { type AppliedChange, RaftFsm } from './raft-fsm.js';
