import { decodeConfiguration } from './configuration.js';
import type { RaftLog } from './log.js';
import type { Configuration, Entry, SnapshotMeta } from './types.js';

/** A configuration and the index of the entry (or snapshot) it comes from. */
export interface IndexedConfiguration {
  readonly config: Configuration;
  readonly index: number;
}

/**
 * Tracks the configuration in force: the newest config entry in the log, or, when the log holds
 * none, the one carried by the snapshot the log starts after. Configurations take effect when
 * appended, committed or not (thesis §4.1), so truncating the log can bring an older one back.
 */
export class ConfigTracker {
  private current: IndexedConfiguration;
  /** The configuration in force at the log's compacted prefix. */
  private base: IndexedConfiguration;

  constructor(snapshot: SnapshotMeta) {
    this.base = { config: snapshot.config, index: snapshot.configIndex };
    this.current = this.base;
  }

  get config(): Configuration {
    return this.current.config;
  }

  get index(): number {
    return this.current.index;
  }

  /** A config entry was appended. */
  appended(entry: Entry): void {
    if (entry.type === 'config')
      this.current = { config: decodeConfiguration(entry.data), index: entry.index };
  }

  /** Re-derives the configuration after the log was truncated or rewritten. */
  refresh(log: RaftLog): void {
    this.current = this.at(log, log.lastIndex());
  }

  /** The configuration in force at `index` (which must not be below the compacted prefix). */
  at(log: RaftLog, index: number): IndexedConfiguration {
    for (let i = Math.min(index, log.lastIndex()); i > log.snapshotIndex; i--) {
      const entry = log.entry(i) as Entry;
      if (entry.type === 'config') return { config: decodeConfiguration(entry.data), index: i };
    }
    return this.base;
  }

  /** The log was compacted up to `index`: remember the configuration in force there. */
  compacted(log: RaftLog, index: number): void {
    this.base = this.at(log, index);
  }

  /** A snapshot replaced the whole log. */
  restored(snapshot: SnapshotMeta): void {
    this.base = { config: snapshot.config, index: snapshot.configIndex };
    this.current = this.base;
  }
}
