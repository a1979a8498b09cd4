import { entrySize } from '../core/log.js';
import { DEFAULT_MAX_BYTES_PER_MESSAGE } from '../core/options.js';
import type { RaftCore } from '../core/raft.js';
import type { Message, SnapshotMeta, SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { RaftStorage, SnapshotSink } from '../storage/types.js';
import { findSnapshot } from './snapshots.js';

/**
 * Why the node itself dropped a peer's input (the core counts its own reasons, see
 * `PeerDropReason`):
 * - `tooManyBytes`: an AppendEntries of several entries above the per-message byte bound, which no
 *   leader sends (it sends one oversized entry alone);
 * - `snapshotRefused`: an InstallSnapshot the core would not or did not install (a stale term,
 *   another leader of our term, a malformed request); its data was never made visible;
 * - `snapshotBusy`: an InstallSnapshot while another one was being received;
 * - `snapshotWithoutData`: an InstallSnapshot that came as a plain message, without its data:
 *   installing it would find nothing in the store and stop the member.
 */
export type NodeDropReason = 'tooManyBytes' | 'snapshotRefused' | 'snapshotBusy' | 'snapshotWithoutData';

/** What {@link PeerInput} needs from the node. */
export interface PeerInputContext {
  readonly storage: RaftStorage;
  /** Runs a task on the core between two Readies. */
  readonly run: <T>(task: (core: RaftCore) => T) => Promise<T>;
  /** Queues a message for the core, bypassing {@link PeerInput.admit}. */
  readonly step: (m: Message) => void;
}

/**
 * The node's own checks of what peers send (design §7, "Peer input never stops a member"):
 * bounds on what one message may make us hold, and the InstallSnapshot intake. A snapshot's
 * data is judged by the core before a byte is written, and written into a sink that stays
 * invisible until the core hands the snapshot out for installing: a refused snapshot can never
 * become the latest one in the store, so a restart never loads what Raft did not accept.
 */
export class PeerInput {
  readonly dropped: Partial<Record<NodeDropReason, number>> = {};
  /** Received snapshot data, written but not yet visible, by `index/term`. */
  private readonly held = new Map<string, SnapshotSink>();
  private receiving = false;

  constructor(private readonly ctx: PeerInputContext) {}

  /** False (counted) when `m` breaks a rule of the node's or exceeds a bound; the node then drops it. */
  admit(m: Message): boolean {
    if (m.type === 'snapshotRequest') {
      // Snapshot requests reach the core only through receiveSnapshot, with their data stored.
      this.count('snapshotWithoutData');
      return false;
    }
    if (m.type !== 'appendRequest' || !Array.isArray(m.entries) || m.entries.length < 2) return true;
    let bytes = 0;
    for (const e of m.entries) bytes += e?.data instanceof Uint8Array ? entrySize(e) : 0;
    if (bytes <= DEFAULT_MAX_BYTES_PER_MESSAGE) return true;
    this.count('tooManyBytes');
    return false;
  }

  /**
   * Takes a snapshot from the leader: checks it, stores its data invisibly, steps the request.
   * Rejects, so the sender learns of it, when the snapshot is refused.
   */
  async receiveSnapshot(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const { storage, run, step } = this.ctx;
    const meta = request.snapshot;
    const verdict = await run((core) => core.snapshotVerdict(request));
    if (verdict === 'refuse') {
      // Stepped all the same: a deposed leader learns the newer term from the core's answer.
      step(request);
      throw this.refused(request, 'a stale term, not from the leader, or malformed');
    }
    // Held is checked after the store lookup: a second delivery of the same snapshot (a leader
    // that gave up on a slow send) may pass the verdict while the first is being stored, and
    // storing it again would replace the held data, which then nothing would close or cancel.
    if (verdict === 'skip' || (await findSnapshot(storage, meta)) !== null || this.held.has(keyOf(meta))) {
      // Nothing to store: drain the stream so the sender completes, then let the core answer.
      for await (const _ of chunks) void _;
      step(request);
      return;
    }
    if (this.receiving) {
      this.count('snapshotBusy');
      throw new RaftError('UNREACHABLE', `${what(request)}: another snapshot is being received`, {
        retryable: true,
      });
    }
    this.receiving = true;
    try {
      await this.storeAndStep(request, chunks);
    } finally {
      this.receiving = false;
    }
  }

  /**
   * A Ready installs `meta`: makes its received data visible, before the Ready's write resets the
   * log, so a crash never leaves a reset log without its snapshot. Other held data is discarded.
   */
  async installing(meta: SnapshotMeta): Promise<void> {
    const sink = this.held.get(keyOf(meta));
    this.held.delete(keyOf(meta));
    await this.discardHeld();
    await sink?.close();
  }

  /** Discards every held snapshot (shutdown). */
  async discardHeld(): Promise<void> {
    const sinks = [...this.held.values()];
    this.held.clear();
    for (const sink of sinks) await sink.cancel().catch(() => undefined);
  }

  private async storeAndStep(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const meta = request.snapshot;
    const sink = await this.ctx.storage.create(meta);
    let outcome: 'held' | 'covered' | 'refused' = 'refused';
    try {
      for await (const chunk of chunks) await sink.write(chunk);
      // Held from inside the loop's task, so the Ready that installs it finds it.
      outcome = await this.ctx.run((core) => {
        core.step(request);
        const pending = core.pendingSnapshot;
        if (pending !== null && keyOf(pending) === keyOf(meta)) {
          this.held.set(keyOf(meta), sink);
          return 'held';
        }
        // Our log caught up meanwhile: the core answered without needing the data.
        return core.status().commitIndex >= meta.index ? 'covered' : 'refused';
      });
    } finally {
      if (outcome !== 'held') await sink.cancel().catch(() => undefined);
    }
    if (outcome === 'refused')
      throw this.refused(request, 'the term or leader changed while it was received');
  }

  private refused(request: SnapshotRequest, why: string): RaftError {
    this.count('snapshotRefused');
    return new RaftError('INVALID_INPUT', `${what(request)} refused: ${why}`);
  }

  private count(reason: NodeDropReason): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }
}

function keyOf(meta: SnapshotMeta): string {
  return `${meta.index}/${meta.term}`;
}

function what(request: SnapshotRequest): string {
  return `snapshot ${request.snapshot.index}/${request.snapshot.term} from ${request.from}`;
}
