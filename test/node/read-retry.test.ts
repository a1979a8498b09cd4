import { afterEach, describe, expect, it } from 'vitest';
import { NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

describe('linearizable reads across an election', () => {
  it('a read asked while no leader is known is served once a leader confirms it', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const leader = await c.waitForLeader();
    const { index } = await c.apply('x=1');
    const follower = (['a', 'b', 'c'].find((id) => id !== leader) as string) ?? '';
    await c.waitForConvergence(index);
    // Cut off, the follower loses the leader and campaigns in vain (pre-vote keeps the term).
    c.network.isolate(follower);
    await waitFor(() => c.raft(follower).leader() === null, 5000, `${follower} to lose the leader`);
    const read = c
      .raft(follower)
      .readIndex({ timeoutMs: 20_000 })
      .catch((err: unknown) => err);
    // The first round fails at once (no leader to ask); the call must go on until one answers.
    await new Promise((resolve) => setImmediate(resolve));
    c.network.heal();
    expect(await read).toBeGreaterThanOrEqual(index);
  });

  it('verifyLeader asks once: a leader that cannot reach a quorum is told so, not a later leader', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const leader = await c.waitForLeader();
    c.network.isolate(leader);
    const err = await c
      .raft(leader)
      .verifyLeader({ timeoutMs: 20_000 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LEADERSHIP_LOST' });
  });

  it('a read whose request is lost is asked again, well before its deadline', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const leader = await c.waitForLeader();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    await waitFor(() => c.raft(follower).leader() === leader, 5000, `${follower} to know the leader`);
    let dropped = 0;
    const stop = c.network.filter((m) => {
      if (m.type !== 'readIndexRequest' || dropped > 0) return true;
      dropped++;
      return false;
    });
    // With one try per call, the lost request would hold the read until this deadline, past the test's.
    const read = await c
      .raft(follower)
      .readIndex({ timeoutMs: 60_000 })
      .catch((err: unknown) => err);
    stop();
    expect(dropped).toBe(1);
    expect(typeof read).toBe('number');
  });
});
