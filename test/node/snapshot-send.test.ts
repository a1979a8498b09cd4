/**
 * SnapshotScheduler.send on fakes (see snapshot-scheduler-fakes): one transfer at a time per
 * follower, a timeout that grows with the snapshot's size, and every failure reported to the core
 * so that the leader retries.
 */
import { describe, expect, it } from 'vitest';
import type { RaftCore } from '../../src/core/raft.js';
import type { SnapshotMeta, SnapshotRequest } from '../../src/core/types.js';
import { RaftError } from '../../src/errors.js';
import {
  flush,
  snapshotMeta as meta,
  type SendCall,
  schedulerOnFakes,
} from '../support/snapshot-scheduler-fakes.js';

const request = (to: string, snapshot: SnapshotMeta = meta(7, 2)): SnapshotRequest => ({
  type: 'snapshotRequest',
  from: 'a',
  to,
  term: 2,
  snapshot,
});

/** A scheduler whose store holds snapshot 7/2 of `size` bytes. */
async function withSnapshot(size = 10) {
  const s = schedulerOnFakes();
  const sink = await s.h.storage.create(meta(7, 2));
  await sink.write(new Uint8Array(size).fill(9));
  await sink.close();
  return s;
}

/** Runs the tasks the scheduler queued for the core; returns whom they reported as failed. */
function reportedFailures(tasks: ((core: RaftCore) => void)[]): string[] {
  const reported: string[] = [];
  const core = { reportSnapshotFailure: (id: string) => reported.push(id) } as unknown as RaftCore;
  for (const task of tasks) task(core);
  return reported;
}

describe('SnapshotScheduler.send', () => {
  it('streams the stored data with a timeout of ten election timeouts plus a millisecond per KiB', async () => {
    const { h, scheduler } = await withSnapshot(2049);
    const m = request('b');
    scheduler.send(m);
    await flush();
    expect(h.sends).toHaveLength(1);
    const [call] = h.sends as [SendCall];
    expect(call.request).toBe(m);
    // 10 × 100 ms + ceil(2049 / 1024) ms, on the node's clock.
    expect(h.timers.map((t) => [t.ms, t.cleared])).toEqual([[1003, false]]);
    let bytes = 0;
    for await (const chunk of call.chunks) bytes += chunk.filter((b) => b === 9).length;
    expect(bytes).toBe(2049);
    call.done.open();
    await flush();
    expect(h.enqueued).toEqual([]);
    expect(h.timers.map((t) => [t.ms, t.cleared])).toEqual([[1003, true]]);
  });

  it('aborts a transfer when its timer on the node clock fires, and reports it to the core', async () => {
    const { h, scheduler } = await withSnapshot();
    scheduler.send(request('b'));
    await flush();
    const [call] = h.sends as [SendCall];
    expect(call.signal?.aborted).toBe(false);
    h.timers[0]?.fire();
    expect(call.signal?.aborted).toBe(true);
    call.done.fail(new RaftError('TIMEOUT', 'aborted'));
    await flush();
    expect(reportedFailures(h.enqueued)).toEqual(['b']);
    expect(h.timers.map((t) => t.cleared)).toEqual([true]);
  });

  it('sends once at a time per follower, and again once the last send ended', async () => {
    const { h, scheduler } = await withSnapshot();
    scheduler.send(request('b'));
    scheduler.send(request('b'));
    scheduler.send(request('c'));
    await flush();
    expect(h.sends.map((s) => s.request.to)).toEqual(['b', 'c']);
    h.sends[0]?.done.open();
    await flush();
    scheduler.send(request('b'));
    await flush();
    expect(h.sends.map((s) => s.request.to)).toEqual(['b', 'c', 'b']);
    expect(h.enqueued).toEqual([]);
  });

  it('reports a snapshot that is not stored to the core, without sending, and may try again', async () => {
    const { h, scheduler } = await withSnapshot();
    scheduler.send(request('b', meta(7, 3)));
    await flush();
    expect(h.sends).toEqual([]);
    expect(reportedFailures(h.enqueued)).toEqual(['b']);
    scheduler.send(request('b', meta(7, 3)));
    await flush();
    expect(reportedFailures(h.enqueued)).toEqual(['b', 'b']);
  });

  it('reports a failed transfer to the core, and may send again', async () => {
    const { h, scheduler } = await withSnapshot();
    scheduler.send(request('b'));
    await flush();
    h.sends[0]?.done.fail(new RaftError('UNREACHABLE', 'gone'));
    await flush();
    expect(reportedFailures(h.enqueued)).toEqual(['b']);
    scheduler.send(request('b'));
    await flush();
    expect(h.sends).toHaveLength(2);
  });
});
