import type { Clock } from '../clock.js';
import type { RaftCore } from '../core/raft.js';
import type { RandomSource } from '../core/random.js';
import type { SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { Fsm } from '../fsm.js';
import type { RaftStorage, SnapshotRecord } from '../storage/types.js';
import type { Transport } from '../transport/types.js';
import type { RaftConfig } from './config.js';
import { captureSnapshot, findSnapshot } from './snapshots.js';

/** What the scheduler needs from its node. */
export interface SnapshotContext {
  readonly config: RaftConfig;
  readonly fsm: Fsm;
  readonly storage: RaftStorage;
  readonly transport: Transport;
  readonly core: RaftCore;
  /** Runs a task in the node's loop, between Readies, and returns its result. */
  readonly run: <T>(task: (core: RaftCore) => T) => Promise<T>;
  readonly enqueue: (task: (core: RaftCore) => void) => void;
  readonly appliedIndex: () => number;
  /** Resolves once every Ready persisted so far is on disk, deferred ones included. */
  readonly written: () => Promise<void>;
  readonly clock: Clock;
  /** Spreads the members' snapshots apart (see {@link SnapshotScheduler.maybeStart}). */
  readonly random: RandomSource;
  /** A snapshot was stored: `bytes` of data, captured and written in `durationMs`. */
  readonly taken: (snapshot: { index: number; bytes: number; durationMs: number }) => void;
  /** A snapshot the scheduler started failed. */
  readonly failed: (error: unknown) => void;
}

/** Entries deleted per storage operation when compacting the log after a snapshot. */
const COMPACTION_SLICE = 512;

/**
 * Takes snapshots (by threshold, interval or request), compacts the log after them, and sends
 * them to followers that need them.
 */
export class SnapshotScheduler {
  lastIndex: number;
  private lastAt: number;
  private running: Promise<SnapshotRecord> | null = null;
  private readonly sending = new Set<string>();
  /** Entries and milliseconds added to the threshold and interval until the next snapshot. */
  private spread = { entries: 0, ms: 0 };
  /** No scheduled snapshot starts before this time: set after one failed. */
  private retryAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ctx: SnapshotContext,
    lastIndex: number,
  ) {
    this.lastIndex = lastIndex;
    this.lastAt = ctx.clock.now();
    this.respread();
  }

  /**
   * Draws the next spread: up to a quarter of the threshold and of the interval. Members apply the
   * same entries at about the same time, so without it every member would capture and write its
   * state at the same index, and the group's commit latency would stall on all of them at once.
   */
  private respread(): void {
    const { snapshotThreshold, snapshotInterval } = this.ctx.config;
    this.spread = {
      entries: this.ctx.random.int(Math.floor(snapshotThreshold / 4) + 1),
      ms: this.ctx.random.int(Math.floor(snapshotInterval / 4) + 1),
    };
  }

  /** A snapshot was installed from the leader. */
  installed(index: number): void {
    this.lastIndex = Math.max(this.lastIndex, index);
  }

  /** Starts a snapshot when the threshold or the interval says one is due. Call inside the loop. */
  maybeStart(): void {
    // After a failure (a full disk, say) the threshold stays crossed: without the pause every
    // Ready would capture the whole state again.
    if (this.running !== null || this.ctx.clock.now() < this.retryAt) return;
    const applied = this.ctx.appliedIndex();
    const { snapshotThreshold, snapshotInterval } = this.ctx.config;
    const due =
      applied - this.lastIndex >= snapshotThreshold + this.spread.entries ||
      (applied > this.lastIndex && this.ctx.clock.now() - this.lastAt >= snapshotInterval + this.spread.ms);
    if (!due) return;
    this.start().catch((err: unknown) => {
      this.retryAt = this.ctx.clock.now() + snapshotInterval;
      this.ctx.failed(err);
    });
  }

  /**
   * Snapshots the FSM at the applied index. Call it inside the loop, between two Readies: the FSM
   * captures its state synchronously, so the state matches the index exactly. The write goes on
   * in the background; then the core learns of the snapshot and compacts the log.
   */
  start(): Promise<SnapshotRecord> {
    if (this.running !== null) return this.running;
    const { core, fsm, storage } = this.ctx;
    const index = this.ctx.appliedIndex();
    if (index === this.lastIndex) {
      return Promise.reject(new RaftError('INVALID_INPUT', `nothing applied since the snapshot at ${index}`));
    }
    const startedAt = this.ctx.clock.now();
    const capture = captureSnapshot(fsm, storage, core.snapshotMetaAt(index));
    const task = (async () => {
      const record = await (await capture)();
      this.ctx.taken({ index, bytes: record.size, durationMs: this.ctx.clock.now() - startedAt });
      const { compactedTo } = await this.ctx.run((c) => c.snapshotTaken(index));
      // A non-voter's deferred entries may reach below compactedTo: written after the deletion,
      // they would come back as a stale prefix of the log.
      await this.ctx.written();
      const first = await storage.firstIndex();
      // In slices, each its own storage operation: one deletion of thousands of entries would
      // hold the event loop (building the batch) and the log's writes (the store runs one at a
      // time) for tens of milliseconds. Removing the oldest first keeps the log one range throughout.
      if (first > 0) {
        for (let from = first; from <= compactedTo; from += COMPACTION_SLICE) {
          await storage.deleteRange(from, Math.min(compactedTo, from + COMPACTION_SLICE - 1));
        }
      }
      this.lastIndex = Math.max(this.lastIndex, index);
      this.lastAt = this.ctx.clock.now();
      this.respread();
      return record;
    })();
    this.running = task.finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Streams the snapshot `m` names to its follower; a failure makes the core retry later. */
  send(m: SnapshotRequest): void {
    if (this.sending.has(m.to)) return;
    this.sending.add(m.to);
    const { storage, transport, config, clock } = this.ctx;
    void (async () => {
      try {
        const record = await findSnapshot(storage, m.snapshot);
        if (record === null)
          throw new RaftError('UNREACHABLE', 'the snapshot is not stored yet', { retryable: true });
        const { chunks } = await storage.open(record.id);
        // A stalled receiver must not block snapshots to that peer forever: allow ten election
        // timeouts plus one millisecond per KiB (at least 1 MB/s).
        const timeoutMs = 10 * config.electionTimeout + Math.ceil(record.size / 1024);
        // On the node's clock, so a simulation decides when a transfer stalled.
        const stalled = new AbortController();
        const timer = clock.setTimeout(() => stalled.abort(), timeoutMs);
        try {
          await transport.sendSnapshot(m, chunks, stalled.signal);
        } finally {
          clock.clearTimeout(timer);
        }
      } catch {
        this.ctx.enqueue((core) => core.reportSnapshotFailure(m.to));
      } finally {
        this.sending.delete(m.to);
      }
    })();
  }
}
