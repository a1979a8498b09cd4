/**
 * Callers of leadershipTransfer() wait on the core's status: done once this node no longer leads,
 * abandoned (a retryable TIMEOUT) once the core gives the transfer up while still leading.
 */
import { describe, expect, it } from 'vitest';
import type { CoreStatus } from '../../src/core/raft.js';
import { RaftError } from '../../src/index.js';
import { TransferWaiters } from '../../src/node/transfer-waiters.js';

const status = (role: CoreStatus['role'], transferTarget: string | null) =>
  ({ role, transferTarget }) as unknown as CoreStatus;

async function outcome(promise: Promise<void>): Promise<string> {
  return promise.then(
    () => 'done',
    (err: RaftError) => `${err.code} ${err.message} retryable=${err.retryable}`,
  );
}

describe('TransferWaiters', () => {
  it('keeps waiting while the transfer runs, and is done for every waiter once another leads', async () => {
    const waiters = new TransferWaiters();
    const first = outcome(waiters.wait());
    const second = outcome(waiters.wait());
    waiters.settle(status('leader', 'b'));
    waiters.settle(status('follower', null));
    expect(await first).toBe('done');
    expect(await second).toBe('done');
  });

  it('fails every waiter when the core gave the transfer up and still leads', async () => {
    const waiters = new TransferWaiters();
    const waiting = outcome(waiters.wait());
    waiters.settle(status('leader', null));
    expect(await waiting).toBe(
      'TIMEOUT leadership transfer abandoned: the target did not take over in time retryable=true',
    );
    // Settled once: a later status finds no one waiting.
    const next = outcome(waiters.wait());
    waiters.settle(status('candidate', null));
    expect(await next).toBe('done');
  });

  it('fails everyone with the given error at shutdown', async () => {
    const waiters = new TransferWaiters();
    const waiting = outcome(waiters.wait());
    waiters.rejectAll(new RaftError('SHUTDOWN', 'the node is shut down', { indefinite: true }));
    expect(await waiting).toBe('SHUTDOWN the node is shut down retryable=false');
  });
});
