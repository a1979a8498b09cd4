import { afterEach, describe, expect, it } from 'vitest';
import { NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

/** Every running member applied each index at most once, in order, and holds the same state. */
function expectSameHistory(c: NodeCluster, writes: number): void {
  const states = [...c.members.values()].map((m) => JSON.stringify([...m.fsm.state].sort()));
  for (const s of states) expect(s).toBe(states[0]);
  for (const m of c.members.values()) {
    const applied = m.fsm.appliedIndexes;
    expect(new Set(applied).size).toBe(applied.length);
    expect([...applied].sort((a, b) => a - b)).toEqual(applied);
    expect(m.fsm.state.size).toBe(writes);
  }
}

describe('a 3-server group on RaftStore (LevelDB) over InmemTransport', () => {
  it('survives a killed leader, a whole-group restart, and a wiped follower that is re-added', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c'], 'level');
    const c = cluster;
    let writes = 0;
    const write = async () => c.apply(`k${writes}=${writes++}`);
    for (let i = 0; i < 10; i++) await write();

    // The leader crashes and comes back from its LevelDB store.
    const first = await c.waitForLeader();
    await c.kill(first);
    for (let i = 0; i < 10; i++) await write();
    await c.startNode(first);
    let last = await write();
    await c.waitForConvergence(last.index);

    // Every node stops gracefully and restarts together, from disk.
    for (const id of ['a', 'b', 'c']) await c.stop(id);
    for (const id of ['a', 'b', 'c']) await c.startNode(id);
    last = await write();
    await c.waitForConvergence(last.index);

    // A follower loses its disk; it is removed and re-added as a new, empty server.
    const leader = await c.waitForLeader();
    const victim = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    await c.wipe(victim);
    await c.raft(leader).removeServer(victim);
    await c.startNode(victim);
    await c.raft(leader).addVoter(victim);
    await waitFor(
      () =>
        c
          .raft(leader)
          .getConfiguration()
          .configuration.servers.some((s) => s.id === victim && s.suffrage === 'voter'),
      5000,
      `${victim} is a voter again`,
    );
    for (let i = 0; i < 5; i++) await write();
    last = await write();
    await c.waitForConvergence(last.index);
    expectSameHistory(c, writes);
  });
});
