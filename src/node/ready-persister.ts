import type { Ready } from '../core/ready.js';
import type { HardState } from '../core/types.js';
import type { RaftStorage } from '../storage/types.js';

/**
 * Writes what a Ready asks to persist, in one batch, with one exception: a hard state that moves
 * nothing but the commit index is held back and goes out with the next write. Raft keeps the
 * commit index in volatile state (a restarted server relearns it from its leader, and never
 * starts below its snapshot), so this costs nothing in safety, and it takes a disk write off the
 * path of every commit: the leader applies at once, and followers answer its commit notice
 * without touching the disk.
 */
export class ReadyPersister {
  /** Synced batches written, and the entries in them (for stats). */
  batches = 0;
  entries = 0;
  private written: HardState;
  private held: HardState | null = null;

  constructor(
    private readonly storage: RaftStorage,
    initial: HardState,
  ) {
    this.written = initial;
  }

  async persist(ready: Ready): Promise<void> {
    const { snapshot, entries, hardState } = ready;
    if (snapshot === null && entries.length === 0) {
      if (hardState === null) return;
      if (hardState.term === this.written.term && hardState.vote === this.written.vote) {
        this.held = hardState;
        return;
      }
    }
    const toWrite = hardState ?? this.held;
    await this.storage.writeBatch({ resetLog: snapshot !== null, entries, hardState: toWrite });
    if (toWrite !== null) this.written = toWrite;
    this.held = null;
    this.batches++;
    this.entries += entries.length;
  }
}
