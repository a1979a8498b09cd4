/**
 * A SnapshotScheduler over fakes the test drives: a clock, a scripted random source, a core, an
 * FSM and a transport that record what they are asked; the storage is a real MemoryStore.
 */

import { expect } from 'vitest';
import type { ClockTimer } from '../../src/clock.js';
import type { RaftCore } from '../../src/core/raft.js';
import type { SnapshotMeta, SnapshotRequest } from '../../src/core/types.js';
import type { Fsm } from '../../src/fsm.js';
import type { RaftConfig } from '../../src/node/config.js';
import { SnapshotScheduler } from '../../src/node/snapshot-scheduler.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { SnapshotSink } from '../../src/storage/types.js';
import type { Transport } from '../../src/transport/types.js';
import { type Gate, gate } from './promises.js';

export const snapshotMeta = (index: number, term = 1): SnapshotMeta => ({
  index,
  term,
  config: { servers: [{ id: 'a', suffrage: 'voter' }] },
  configIndex: 1,
});

/**
 * Every fake here and the MemoryStore settle in microtasks only, so one macrotask turn runs every
 * pending continuation: for where the scheduler works in the background with no promise to await.
 */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One call of transport.sendSnapshot; it ends when the test opens or fails `done`. */
export interface SendCall {
  request: SnapshotRequest;
  chunks: AsyncIterable<Uint8Array>;
  signal: AbortSignal | undefined;
  done: Gate;
}

/**
 * A scheduler over fakes, with electionTimeout 100, snapshotThreshold 10 and snapshotInterval
 * 1000; `draws` scripts random.int (0 once used up). The returned `h` holds what the test changes
 * (now, applied, compactedTo, persist) and what it observes.
 */
/** A timer set on the fake clock: fired by the test, never by time. */
export interface FakeTimer extends ClockTimer {
  readonly ms: number;
  readonly fire: () => void;
  cleared: boolean;
}

export function schedulerOnFakes(lastIndex = 20, draws: number[] = [2, 100]) {
  const h = {
    now: 1000,
    applied: lastIndex,
    compactedTo: 0,
    /** Timers set on the clock, in order. */
    timers: [] as FakeTimer[],
    /** The bounds given to random.int, in order. */
    bounds: [] as number[],
    captures: 0,
    /** Indexes the core was told a snapshot was taken at. */
    coreTaken: [] as number[],
    /** Writes the captured state; by default 300 bytes, taking no time. */
    persist: async (sink: SnapshotSink): Promise<void> => sink.write(new Uint8Array(300)),
    taken: [] as { index: number; bytes: number; durationMs: number }[],
    failed: [] as unknown[],
    enqueued: [] as ((core: RaftCore) => void)[],
    deletes: [] as [number, number][],
    /** What the node's deferred writes still wait for: `written()` resolves with it. */
    written: Promise.resolve() as Promise<void>,
    sends: [] as SendCall[],
    storage: new MemoryStore({ retainSnapshots: 10 }),
  };
  const core = {
    snapshotMetaAt: (i: number) => snapshotMeta(i),
    snapshotTaken: (i: number) => {
      h.coreTaken.push(i);
      return { snapshot: snapshotMeta(i), compactedTo: h.compactedTo };
    },
  } as unknown as RaftCore;
  const fsm: Fsm = {
    apply: () => undefined,
    restore: async () => undefined,
    snapshot: () => {
      h.captures++;
      return { persist: (sink) => h.persist(sink) };
    },
  };
  const transport = {
    sendSnapshot: (request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>, signal?: AbortSignal) => {
      const done = gate();
      h.sends.push({ request, chunks, signal, done });
      return done.promise;
    },
  } as unknown as Transport;
  const deleteRange = h.storage.deleteRange.bind(h.storage);
  h.storage.deleteRange = (min, max) => {
    h.deletes.push([min, max]);
    return deleteRange(min, max);
  };
  const scheduler = new SnapshotScheduler(
    {
      config: { snapshotThreshold: 10, snapshotInterval: 1000, electionTimeout: 100 } as RaftConfig,
      fsm,
      storage: h.storage,
      transport,
      core,
      run: async (task) => task(core),
      enqueue: (task) => h.enqueued.push(task),
      appliedIndex: () => h.applied,
      written: () => h.written,
      clock: {
        now: () => h.now,
        setTimeout: (fire, ms) => {
          const timer: FakeTimer = { ms, fire, cleared: false };
          h.timers.push(timer);
          return timer;
        },
        clearTimeout: (timer) => {
          (timer as FakeTimer).cleared = true;
        },
        setInterval: () => expect.unreachable('the scheduler sets no intervals'),
        clearInterval: () => undefined,
      },
      random: {
        int: (bound) => {
          h.bounds.push(bound);
          return draws.shift() ?? 0;
        },
      },
      taken: (t) => h.taken.push(t),
      failed: (err) => h.failed.push(err),
    },
    lastIndex,
  );
  return { h, scheduler };
}
