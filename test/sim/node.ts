import type {
  Configuration,
  Entry,
  HardState,
  Message,
  RaftCore,
  Ready,
  SnapshotMeta,
} from '../../src/core/index.js';
import { MemStorage } from '../support/storage.js';
import { chainHash, GENESIS } from './hash.js';

/** Builds a core for a server from what its storage holds (the simulation's crash/restart hook). */
export type CoreFactory = (id: string, storage: MemStorage, restarts: number) => RaftCore;

/** Where a crash interrupts the handling of a Ready. */
export type CrashPoint = 'beforePersist' | 'beforeSend' | 'beforeApply';

/**
 * Snapshot contents by (index, term). The core passes snapshots by reference; here every server's
 * snapshot store is one shared map, as if followers streamed the data from the leader.
 */
export class SnapshotLibrary {
  private readonly data = new Map<string, string>();

  put(meta: SnapshotMeta, stateHash: string): void {
    this.data.set(`${meta.index}/${meta.term}`, stateHash);
  }

  get(meta: SnapshotMeta): string {
    if (meta.index === 0) return GENESIS;
    const state = this.data.get(`${meta.index}/${meta.term}`);
    if (state === undefined) throw new Error(`no snapshot data for ${meta.index}/${meta.term}`);
    return state;
  }
}

/** What handling one Ready produced, for the simulation to route and check. */
export interface ReadyOutcome {
  readonly ready: Ready;
  /** Messages to send (empty when a crash came first). */
  readonly messages: readonly Message[];
  readonly persisted: boolean;
  /** The hard state that reached storage (null when none did, or a commit-only one was held back). */
  readonly hardStateWritten: HardState | null;
  /** Whether the snapshot and committed entries were applied. */
  readonly applied: boolean;
  /** Earlier writes that had to finish first (a Ready that must be persisted waits for them). */
  readonly completed: readonly CompletedWrite[];
}

/** A write of an accepted Ready that finished later (see `RaftCore.accept`). */
export interface CompletedWrite {
  readonly ready: Ready;
  readonly hardStateWritten: HardState | null;
  /** The Ready's messages that had to wait for the write. */
  readonly messages: readonly Message[];
}

/**
 * A simulated server process: a core that a crash discards, over storage that survives it, and a
 * state machine whose whole state is a chained hash of every entry it applied.
 */
export class SimNode {
  core: RaftCore | null;
  readonly storage: MemStorage;
  restarts = 0;
  /** The tick at which a crashed node comes back. */
  restartAt = 0;
  /** The state machine: equal hashes at equal indexes mean equal histories. */
  stateHash = GENESIS;
  appliedIndex = 0;
  /** Accepted Readies whose writes are still running, oldest first; a crash loses them. */
  private inFlight: Array<{ ready: Ready; holdCommit: boolean }> = [];

  constructor(
    readonly id: string,
    config: Configuration,
    private readonly makeCore: CoreFactory,
    private readonly library: SnapshotLibrary,
  ) {
    this.storage = new MemStorage({ index: 0, term: 0, config, configIndex: 0 });
    this.core = makeCore(id, this.storage, 0);
  }

  get up(): boolean {
    return this.core !== null;
  }

  crash(restartAt: number): void {
    this.core = null;
    this.inFlight = [];
    this.storage.dropHeld();
    this.restartAt = restartAt;
  }

  /** Restarts from storage: the state machine comes back from the persisted snapshot. */
  restart(): void {
    this.restarts++;
    this.core = this.makeCore(this.id, this.storage, this.restarts);
    this.stateHash = this.library.get(this.storage.snapshot);
    this.appliedIndex = this.storage.snapshot.index;
  }

  /**
   * Handles one Ready in the contract's order: persist, send, restore and apply, advance. A crash
   * point stops it part way, exactly as a process dying there would.
   */
  processReady(crashAt: CrashPoint | null, holdCommit: boolean, persistLater: boolean): ReadyOutcome | null {
    const core = this.core;
    if (core === null || !core.hasReady()) return null;
    const ready = core.ready();
    // The early messages go first, so a crash before the write finishes has sent them already.
    const early = ready.earlyMessages;
    const nothing = { ready, persisted: false, hardStateWritten: null, applied: false, completed: [] };
    if (crashAt === 'beforePersist') return { ...nothing, messages: early };
    if (persistLater && crashAt === null && core.mayPersistLater(ready)) {
      // The write runs on while the core takes input again; its messages wait for it.
      this.inFlight.push({ ready, holdCommit });
      this.applyCommitted(ready);
      core.accept(ready);
      return { ...nothing, messages: early, applied: true };
    }
    // Writes finish in order: this one comes after those still running. The core hears of
    // those after this Ready, as the node's runtime queues the report behind it.
    const completed = this.finishWrites();
    const hardStateWritten = this.storage.persist(ready, holdCommit);
    const done = { ready, persisted: true, hardStateWritten, completed };
    if (crashAt === 'beforeSend') return { ...done, messages: early, applied: false };
    const messages = [...early, ...ready.messages];
    if (crashAt === 'beforeApply') return { ...done, messages, applied: false };
    this.applyCommitted(ready);
    core.advance(ready);
    for (const w of completed) core.persisted(w.ready);
    return { ...done, messages, applied: true };
  }

  /** Finishes the writes still running, in order, and tells the core (between Readies only). */
  completeWrites(): CompletedWrite[] {
    const completed = this.finishWrites();
    for (const w of completed) this.core?.persisted(w.ready);
    return completed;
  }

  /** The entries of the writes still running, in order (a leader's own: they only extend its log). */
  entriesBeingWritten(): Entry[] {
    return this.inFlight.flatMap(({ ready }) => [...ready.entries]);
  }

  /** Puts the writes still running on storage, in order; the caller tells the core. */
  private finishWrites(): CompletedWrite[] {
    const finished = this.inFlight;
    this.inFlight = [];
    return finished.map(({ ready, holdCommit }) => ({
      ready,
      hardStateWritten: this.storage.persist(ready, holdCommit),
      messages: ready.messages,
    }));
  }

  private applyCommitted(ready: Ready): void {
    if (ready.snapshot !== null) {
      this.stateHash = this.library.get(ready.snapshot);
      this.appliedIndex = ready.snapshot.index;
    }
    for (const entry of ready.committedEntries) {
      if (entry.index !== this.appliedIndex + 1)
        throw new Error(`${this.id} applies ${entry.index} after ${this.appliedIndex}`);
      this.stateHash = chainHash(this.stateHash, entry);
      this.appliedIndex = entry.index;
    }
  }

  /** The state a snapshot holds. */
  stateHashOf(meta: SnapshotMeta): string {
    return this.library.get(meta);
  }

  /** Takes a snapshot when `threshold` entries were applied since the last one (log compaction). */
  maybeSnapshot(threshold: number): SnapshotMeta | null {
    const core = this.core;
    if (core === null || this.appliedIndex - this.storage.snapshot.index < threshold) return null;
    const { snapshot, compactedTo } = core.snapshotTaken(this.appliedIndex);
    this.library.put(snapshot, this.stateHash);
    this.storage.saveSnapshot(snapshot, compactedTo);
    return snapshot;
  }
}
