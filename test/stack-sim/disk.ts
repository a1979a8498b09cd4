import { MemoryStore } from '../../src/index.js';
import type { RaftStorage, SnapshotSink } from '../../src/storage/types.js';
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
 */
export class SimDisk {
  private platter = new MemoryStore();
  /** Writes that landed, and writes a crash lost. */
  readonly counts = { landed: 0, lost: 0 };
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
    });
    type Call = (...args: unknown[]) => Promise<unknown>;
    const calls = platter as unknown as Record<string, Call>;
    const handle: Record<string, unknown> = {};
    for (const name of [...WRITES, ...READS]) {
      handle[name] = (...args: unknown[]) =>
        enqueue(WRITES.has(name), () => (calls[name] as Call).apply(platter, args));
    }
    handle.create = (meta: unknown) =>
      enqueue(true, async () => {
        const sink = await platter.create(meta as Parameters<MemoryStore['create']>[0]);
        return wrapSink(sink, (op) => enqueue(true, op));
      });
    // Closing a process's handle leaves the data on the disk for the next process.
    handle.close = async () => undefined;
    return handle as unknown as RaftStorage;
  }
}

function wrapSink(sink: SnapshotSink, write: <T>(op: () => Promise<T>) => Promise<T>): SnapshotSink {
  return {
    id: sink.id,
    write: (chunk) => write(() => sink.write(chunk)),
    close: () => write(() => sink.close()),
    cancel: () => write(() => sink.cancel()),
  };
}
