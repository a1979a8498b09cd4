/** The state-sync binding: a replicated key-value state over Raft and MQTT. */

export { decodeBackup, encodeBackup, restoreBackup, type StateBackup } from './backup.js';
export type { BindingStatus, Consistency, ProposeOptions } from './binding-types.js';
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
export { RaftBinding } from './raft-binding.js';
export { RaftFsm } from './raft-fsm.js';
export type {
  AppliedChange,
  IndexedObserveOptions,
  StateCapture,
  StateObservation,
} from './state-observation.js';
