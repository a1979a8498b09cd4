/** Storage: the interfaces Raft persists through and the two stores that implement them. */
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { RaftStore, type RaftStoreOptions } from './raft-store.js';
export type { StoreOptions } from './retention.js';
export type * from './types.js';
