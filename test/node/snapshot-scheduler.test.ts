/**
 * SnapshotScheduler on fakes (see snapshot-scheduler-fakes): when a snapshot is due (threshold and
 * interval, each pushed back by a random spread), what a snapshot reports, and how it compacts the
 * log. Sending snapshots to followers is in snapshot-send.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RaftError } from '../../src/errors.js';
import type { MemoryStore } from '../../src/storage/memory-store.js';
import { gate } from '../support/promises.js';
import { flush, schedulerOnFakes as setup } from '../support/snapshot-scheduler-fakes.js';

/** Stores entries [from, to] in the log. */
async function fillLog(storage: MemoryStore, from: number, to: number): Promise<void> {
  const entries = [];
  for (let index = from; index <= to; index++) {
    entries.push({ index, term: 1, type: 'command' as const, data: new Uint8Array(1) });
  }
  await storage.storeLogs(entries);
}

describe('SnapshotScheduler: spread', () => {
  it('draws up to a quarter of the threshold and of the interval at construction and after each snapshot only', async () => {
    const { h, scheduler } = setup();
    // Threshold 10 → [0, 3); interval 1000 → [0, 251).
    expect(h.bounds).toEqual([3, 251]);
    scheduler.maybeStart(); // nothing applied: not due, no draw
    h.applied = 25;
    await scheduler.start();
    expect(h.bounds).toEqual([3, 251, 3, 251]);
  });

  it('a failed snapshot draws no new spread', async () => {
    const { h, scheduler } = setup();
    h.persist = async () => Promise.reject(new Error('disk full'));
    h.applied = 25;
    await expect(scheduler.start()).rejects.toThrow('disk full');
    expect(h.bounds).toEqual([3, 251]);
  });
});

describe('SnapshotScheduler.maybeStart', () => {
  it('is due once applied reaches the threshold plus the entries spread, not one entry before', async () => {
    const { h, scheduler } = setup(20, [2, 100]);
    h.applied = 31; // 11 past the snapshot, below 10 + 2
    scheduler.maybeStart();
    expect(h.captures).toBe(0);
    h.applied = 32;
    scheduler.maybeStart();
    expect(h.captures).toBe(1);
    // start() hands back the snapshot maybeStart began: no second capture.
    expect((await scheduler.start()).meta.index).toBe(32);
    expect(h.captures).toBe(1);
    expect(h.failed).toEqual([]);
  });

  it('is due once the interval plus the time spread has passed with something applied', async () => {
    const { h, scheduler } = setup(20, [2, 100]);
    // Nothing applied since the snapshot: never due, however long ago it was (starting would
    // only fail with "nothing applied", reported through failed).
    h.now = 1000 + 5000;
    scheduler.maybeStart();
    await flush();
    expect(h.captures).toBe(0);
    expect(h.failed).toEqual([]);
    h.applied = 21;
    h.now = 1000 + 1099;
    scheduler.maybeStart();
    expect(h.captures).toBe(0);
    h.now = 1000 + 1100;
    scheduler.maybeStart();
    expect(h.captures).toBe(1);
  });

  it('does nothing while a snapshot runs, and adds no failure handler to it', async () => {
    const { h, scheduler } = setup();
    const writing = gate();
    h.persist = () => writing.promise;
    h.applied = 25;
    const running = scheduler.start();
    h.applied = 100;
    scheduler.maybeStart();
    expect(h.captures).toBe(1);
    const err = new Error('disk full');
    writing.fail(err);
    await expect(running).rejects.toBe(err);
    await flush();
    // The caller of start() owns this failure; maybeStart must not report it too.
    expect(h.failed).toEqual([]);
  });

  it('reports the failure of a snapshot it started, and tries again only an interval later', async () => {
    const { h, scheduler } = setup();
    const err = new Error('disk full');
    h.persist = () => Promise.reject(err);
    h.applied = 40;
    scheduler.maybeStart();
    await flush();
    expect(h.failed).toEqual([err]);
    expect(h.failed[0]).toBe(err);
    expect(scheduler.lastIndex).toBe(20);
    h.persist = async (sink) => sink.write(new Uint8Array(1));
    // Every Ready calls maybeStart: without a pause a full disk would capture the state on each.
    h.now = 1000 + 999;
    scheduler.maybeStart();
    await flush();
    expect(h.captures).toBe(1);
    h.now = 1000 + 1000;
    scheduler.maybeStart();
    await flush();
    expect(h.captures).toBe(2);
    expect(h.taken).toEqual([{ index: 40, bytes: 1, durationMs: 0 }]);
    expect(h.failed).toEqual([err]);
  });

  it('measures the interval from the end of the last snapshot, with the new spread', async () => {
    const { h, scheduler } = setup(20, [2, 100, 0, 50]);
    h.applied = 25;
    h.persist = async (sink) => {
      h.now = 3000; // the write takes two seconds
      await sink.write(new Uint8Array(1));
    };
    await scheduler.start();
    h.applied = 26;
    h.now = 3000 + 1049;
    scheduler.maybeStart();
    expect(h.captures).toBe(1);
    h.now = 3000 + 1050;
    scheduler.maybeStart();
    expect(h.captures).toBe(2);
  });

  it('uses the new entries spread after a snapshot', async () => {
    const { h, scheduler } = setup(20, [2, 100, 0, 50]);
    h.applied = 25;
    await scheduler.start();
    h.applied = 34;
    scheduler.maybeStart();
    expect(h.captures).toBe(1);
    h.applied = 35; // 10 past the snapshot at 25, spread now 0
    scheduler.maybeStart();
    expect(h.captures).toBe(2);
  });
});

describe('SnapshotScheduler.start', () => {
  it('returns the running snapshot while one runs, and a new one after it ended', async () => {
    const { h, scheduler } = setup();
    const writing = gate();
    h.persist = async (sink) => {
      await writing.promise;
      await sink.write(new Uint8Array(1));
    };
    h.applied = 25;
    const first = scheduler.start();
    expect(scheduler.start()).toBe(first);
    writing.open();
    expect((await first).meta.index).toBe(25);
    h.applied = 26;
    const second = scheduler.start();
    expect(second).not.toBe(first);
    expect((await second).meta.index).toBe(26);
    expect(h.captures).toBe(2);
  });

  it('refuses a snapshot with nothing applied since the last one', async () => {
    const { h, scheduler } = setup(5);
    const refused = scheduler.start();
    await expect(refused).rejects.toBeInstanceOf(RaftError);
    await expect(refused).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'nothing applied since the snapshot at 5',
    });
    expect(h.captures).toBe(0);
  });

  it('reports index, size and duration, stores the snapshot and moves lastIndex', async () => {
    const { h, scheduler } = setup();
    h.applied = 32;
    h.persist = async (sink) => {
      h.now += 7;
      await sink.write(new Uint8Array(300));
    };
    const record = await scheduler.start();
    expect(record).toMatchObject({ meta: { index: 32 }, size: 300 });
    expect(h.taken).toEqual([{ index: 32, bytes: 300, durationMs: 7 }]);
    expect(h.coreTaken).toEqual([32]);
    expect((await h.storage.list()).map((r) => r.meta.index)).toEqual([32]);
    expect(scheduler.lastIndex).toBe(32);
  });

  it('keeps a higher index installed meanwhile as lastIndex', async () => {
    const { h, scheduler } = setup();
    const writing = gate();
    h.persist = () => writing.promise;
    h.applied = 32;
    const running = scheduler.start();
    scheduler.installed(100);
    writing.open();
    await running;
    expect(scheduler.lastIndex).toBe(100);
  });

  it('after a failure, starts a new capture', async () => {
    const { h, scheduler } = setup();
    h.persist = () => Promise.reject(new Error('disk full'));
    h.applied = 25;
    await expect(scheduler.start()).rejects.toThrow('disk full');
    h.persist = async () => undefined;
    expect((await scheduler.start()).size).toBe(0);
    expect(h.captures).toBe(2);
  });
});

describe('SnapshotScheduler: compaction', () => {
  it('deletes the compacted entries oldest first, 512 per operation', async () => {
    const { h, scheduler } = setup();
    await fillLog(h.storage, 1, 1200);
    h.applied = 1150;
    h.compactedTo = 1100;
    await scheduler.start();
    expect(h.deletes).toEqual([
      [1, 512],
      [513, 1024],
      [1025, 1100],
    ]);
    expect(await h.storage.firstIndex()).toBe(1101);
  });

  it('waits for the deferred writes before it deletes: they may reach below the compaction point', async () => {
    const { h, scheduler } = setup();
    await fillLog(h.storage, 1, 40);
    h.applied = 40;
    h.compactedTo = 30;
    const deferred = gate();
    h.written = deferred.promise;
    const done = scheduler.start();
    await flush();
    expect(h.coreTaken).toEqual([40]);
    expect(h.deletes).toEqual([]);
    deferred.open();
    await done;
    expect(h.deletes).toEqual([[1, 30]]);
  });

  it.each([
    {
      case: 'a last slice of one entry',
      log: [1, 600],
      compactedTo: 513,
      deletes: [
        [1, 512],
        [513, 513],
      ],
    },
    {
      case: 'from the first stored index',
      log: [300, 900],
      compactedTo: 850,
      deletes: [
        [300, 811],
        [812, 850],
      ],
    },
  ])('deletes $case', async ({ log: [first, last], compactedTo, deletes }) => {
    const { h, scheduler } = setup();
    await fillLog(h.storage, first as number, last as number);
    h.applied = last as number;
    h.compactedTo = compactedTo;
    await scheduler.start();
    expect(h.deletes).toEqual(deletes);
  });

  it('deletes nothing from an empty log, or when the log starts above compactedTo', async () => {
    const empty = setup();
    empty.h.applied = 30;
    empty.h.compactedTo = 10;
    await empty.scheduler.start();
    expect(empty.h.deletes).toEqual([]);

    const above = setup();
    await fillLog(above.h.storage, 5, 30);
    above.h.applied = 30;
    above.h.compactedTo = 4;
    await above.scheduler.start();
    expect(above.h.deletes).toEqual([]);
    expect(await above.h.storage.firstIndex()).toBe(5);
  });
});

describe('SnapshotScheduler.installed', () => {
  it('raises lastIndex, never lowers it', () => {
    const { scheduler } = setup(10);
    scheduler.installed(20);
    expect(scheduler.lastIndex).toBe(20);
    scheduler.installed(15);
    expect(scheduler.lastIndex).toBe(20);
  });
});
