import { describe, expect, it } from 'vitest';
import { isRaftError, RaftError } from '../../src/errors.js';
import { ReadWaiters } from '../../src/node/reads.js';

/** Lets every settled promise run its callbacks. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ReadWaiters', () => {
  it('completes a confirmed read only once the applied index reaches its read index', async () => {
    let applied = 3;
    const reads = new ReadWaiters(() => applied);
    const { id, promise } = reads.create();
    let result: number | null = null;
    void promise.then((index) => {
      result = index;
    });
    reads.appliedTo();
    await flush();
    expect(result).toBeNull();
    reads.answered([{ requestId: id, ok: true, index: 5 }]);
    reads.appliedTo();
    await flush();
    expect(result).toBeNull();
    applied = 4;
    reads.appliedTo();
    await flush();
    expect(result).toBeNull();
    applied = 5;
    reads.appliedTo();
    await flush();
    expect(result).toBe(5);
  });

  it('completes at once a read confirmed at an index already applied', async () => {
    const reads = new ReadWaiters(() => 7);
    const { id, promise } = reads.create();
    reads.answered([{ requestId: id, ok: true, index: 6 }]);
    reads.appliedTo();
    await expect(promise).resolves.toBe(6);
  });

  it('fails a read the leader could not confirm with LEADERSHIP_LOST, and forgets cancelled ones', async () => {
    const reads = new ReadWaiters(() => 10);
    const refused = reads.create();
    const cancelled = reads.create();
    reads.cancel(cancelled.id);
    reads.answered([
      { requestId: refused.id, ok: false, index: 0 },
      { requestId: cancelled.id, ok: true, index: 1 },
    ]);
    const err = await refused.promise.catch((e: unknown) => e);
    expect(isRaftError(err, 'LEADERSHIP_LOST')).toBe(true);
    expect(isRaftError(err) && err.retryable).toBe(true);
    let settled = false;
    void cancelled.promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    reads.appliedTo();
    reads.rejectAll(new RaftError('SHUTDOWN', 'stop'));
    await flush();
    expect(settled).toBe(false);
  });
});
