import type { Entry, HardState } from '../../src/core/types.js';
import { MemoryStore } from '../../src/index.js';
import type { BatchWriteOptions, RaftStorage, SnapshotSink, StorageBatch } from '../../src/storage/types.js';
import type { ProcessClock } from './scheduler.js';

/** Calls that change what is on disk: each takes a write latency before it lands. */
const WRITES = new Set(['writeBatch', 'storeLog', 'storeLogs', 'deleteRange', 'set', 'setUint64']);
/** Calls that only read; they still wait their turn behind earlier writes. */
const READS = [
  'readHardState',
  'firstIndex',
  'lastIndex',
  'getLog',
  'getLogs',
  'get',
  'getUint64',
  'list',
  'open',
];

/**
 * A member's disk: a {@link MemoryStore} that outlives its processes. Each process opens it
 * through {@link open}, which applies its calls in order, every write after a seeded latency on
 * the process's clock. A crash kills that clock: writes still waiting never land (they were not
 * synced) and no call of the dead process is answered any more, while everything that landed
 * stays for the next process. A wipe replaces the disk with an empty one.
 *
 * A crash is a power loss: batches written with `sync: false` that no synced write followed are
 * undone too, newest first (they were in the operating system's cache). A synced write of any kind
 * makes every batch before it durable, as LevelDB's synced write-ahead log does.
 */
export class SimDisk {
  private platter = new MemoryStore();
  /** Writes that landed, writes a crash lost before they landed, unsynced batches it undid. */
  readonly counts = { landed: 0, lost: 0, undone: 0 };
  /** How to undo each unsynced batch since the last synced write, oldest first. */
  private unsynced: Array<() => void> = [];
  /** Called once, as the next write is issued: a crash in the middle of a write. */
  private armed: (() => void) | null = null;

  constructor(private readonly latency: () => number) {}

  /** Calls `crash` as the next write is issued, before it lands; null disarms. */
  crashOnNextWrite(crash: (() => void) | null): void {
    this.armed = crash;
  }

  /** The disk is lost with everything on it (a new machine under the same member id). */
  wipe(): void {
    this.platter = new MemoryStore();
    this.unsynced = [];
  }

  /** A handle for one process whose timers run on `clock`. */
  open(clock: ProcessClock): RaftStorage {
    const platter = this.platter;
    let tail: Promise<unknown> = Promise.resolve();
    let waiting = 0;
    const enqueue = <T>(write: boolean, op: () => Promise<T>): Promise<T> => {
      if (write) waiting++;
      const crash = write && !clock.killed ? this.armed : null;
      if (crash !== null) {
        this.armed = null;
        crash();
      }
      const run = async (): Promise<T> => {
        // A dead process is never answered.
        if (clock.killed) return new Promise<T>(() => undefined);
        if (write) {
          // Only a live process's timer fires: a crash leaves the write unsynced forever.
          await new Promise<void>((resolve) => clock.setTimeout(resolve, this.latency()));
          if (clock.killed) return new Promise<T>(() => undefined);
          waiting--;
          this.counts.landed++;
        }
        return op();
      };
      const result = tail.then(run, run);
      tail = result.catch(() => undefined);
      return result;
    };
    clock.onKill(() => {
      this.counts.lost += waiting;
      this.counts.undone += this.unsynced.length;
      for (const undo of this.unsynced.reverse()) undo();
      this.unsynced = [];
    });
    // A synced write, once it lands, makes every unsynced batch before it durable.
    const synced =
      <T>(op: () => Promise<T>) =>
      (): Promise<T> => {
        this.unsynced = [];
        return op();
      };
    type Call = (...args: unknown[]) => Promise<unknown>;
    const calls = platter as unknown as Record<string, Call>;
    const handle: Record<string, unknown> = {};
    for (const name of READS) {
      handle[name] = (...args: unknown[]) => enqueue(false, () => (calls[name] as Call).apply(platter, args));
    }
    for (const name of WRITES) {
      handle[name] = (...args: unknown[]) => {
        const call = () => (calls[name] as Call).apply(platter, args);
        const options = name === 'writeBatch' ? (args[1] as BatchWriteOptions | undefined) : undefined;
        if (options?.sync !== false) return enqueue(true, synced(call));
        return enqueue(true, async () => {
          this.unsynced.push(await undoOf(platter, args[0] as StorageBatch));
          return call();
        });
      };
    }
    handle.create = (meta: unknown) =>
      enqueue(
        true,
        synced(async () => {
          const sink = await platter.create(meta as Parameters<MemoryStore['create']>[0]);
          return wrapSink(sink, (op) => enqueue(true, synced(op)));
        }),
      );
    // Closing a process's handle leaves the data on the disk for the next process.
    handle.close = async () => undefined;
    return handle as unknown as RaftStorage;
  }
}

/**
 * What puts the platter back as it was before `batch`: the entries it replaces and the hard state.
 * Runs synchronously (a MemoryStore call does its work before its first await), so a crash can
 * undo in the middle of the simulated instant it happens in.
 */
async function undoOf(platter: MemoryStore, batch: StorageBatch): Promise<() => void> {
  if (batch.resetLog) throw new Error('SimDisk: an unsynced batch may not reset the log');
  const hardState: HardState = await platter.readHardState();
  const from = batch.entries[0]?.index;
  const replaced: Entry[] = from === undefined ? [] : await platter.getLogs(from, Number.MAX_SAFE_INTEGER);
  return () => {
    // A batch replaces everything from its first entry on: putting back what it replaced undoes
    // it, and when it replaced nothing (an append), deleting its entries does.
    if (from !== undefined && replaced.length === 0) void platter.deleteRange(from, Number.MAX_SAFE_INTEGER);
    void platter.writeBatch({ resetLog: false, entries: replaced, hardState });
  };
}

function wrapSink(sink: SnapshotSink, write: <T>(op: () => Promise<T>) => Promise<T>): SnapshotSink {
  return {
    id: sink.id,
    write: (chunk) => write(() => sink.write(chunk)),
    close: () => write(() => sink.close()),
    cancel: () => write(() => sink.cancel()),
  };
}
