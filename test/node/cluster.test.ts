import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/index.js';
import { FAST, NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

describe('Raft nodes over InmemTransport', () => {
  it.each([3, 5])('elect one leader and replicate to all %i servers', async (size) => {
    const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
    cluster = await NodeCluster.start(ids);
    const c = cluster;
    const leader = await c.waitForLeader();
    const { index } = await c.raft(leader).apply(encoder.encode('x=1'));
    await c.waitForConvergence(index);
    for (const id of ids) expect(c.member(id).fsm.state.get('x')).toBe('1');
  });

  it('with forwarding off, a follower refuses proposals with NOT_LEADER naming the leader', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c'], 'memory', { ...FAST, forwardToLeader: false });
    const leader = await cluster.waitForLeader();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    await waitFor(() => cluster?.raft(follower).leader() === leader, 2000, 'the follower knows the leader');
    const err = await cluster
      .raft(follower)
      .apply(encoder.encode('x=1'))
      .catch((e: unknown) => e);
    expect(isRaftError(err, 'NOT_LEADER')).toBe(true);
    expect(isRaftError(err) && err.leader).toBe(leader);
  });

  it('elects a new leader when the leader dies, and the old one catches up on restart', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const first = await c.waitForLeader();
    await c.apply('before=1');
    await c.kill(first);
    const second = await c.waitForLeader();
    expect(second).not.toBe(first);
    const { index } = await c.apply('after=1');
    await c.startNode(first);
    await c.waitForConvergence(index);
    expect(c.member(first).fsm.state.get('after')).toBe('1');
  });

  it('a proposal accepted by a leader then cut off from its followers times out as indefinite', async () => {
    // A lease of 200 ms: the leader keeps leading until it has proposed, even on a busy machine.
    const timing = { heartbeatTimeout: 200, electionTimeout: 200, leaderLeaseTimeout: 200 };
    cluster = await NodeCluster.start(['a', 'b', 'c'], 'memory', timing);
    const leader = await cluster.waitForLeader();
    await cluster.apply('x=1');
    const raft = cluster.raft(leader);
    const before = raft.stats().lastLogIndex;
    // Proposed first, then cut off before any of its messages leaves: it is accepted, never committed.
    const pending = raft.apply(encoder.encode('y=2'), { timeoutMs: 300 }).catch((e: unknown) => e);
    cluster.network.isolate(leader);
    const err = await pending;
    expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    expect(isRaftError(err) && err.indefinite).toBe(true);
    // It was appended to the leader's log, so it may still commit: "indefinite" is the truth.
    expect(raft.stats().lastLogIndex).toBe(before + 1);
    expect(cluster.member(leader).fsm.state.has('y')).toBe(false);
  });

  it('adds a server as staging, promotes it once caught up, then removes it', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    for (let i = 0; i < 20; i++) await c.apply(`k${i}=${i}`);
    await c.addEmpty('d');
    const leader = await c.waitForLeader();
    const suffrageOfD = () =>
      c
        .raft(leader)
        .getConfiguration()
        .configuration.servers.find((s) => s.id === 'd')?.suffrage;
    // d cannot catch up while it hears nothing: it must stay staging (no vote, not in the quorum).
    c.network.isolate('d');
    await c.raft(leader).addVoter('d');
    expect(suffrageOfD()).toBe('staging');
    expect(c.raft(leader).stats().voters).toBe(3);
    const { index: duringStaging } = await c.apply('staging=1');
    expect(suffrageOfD()).toBe('staging');
    c.network.heal();
    await waitFor(() => suffrageOfD() === 'voter', 5000, 'd promoted to voter');
    const { index } = await c.apply('joined=d');
    expect(index).toBeGreaterThan(duringStaging);
    await c.waitForConvergence(index);
    expect(c.member('d').fsm.state.get('k19')).toBe('19');
    expect(c.raft(leader).stats().voters).toBe(4);
    const now = await c.waitForLeader();
    await c.raft(now).removeServer('d');
    expect(
      c
        .raft(now)
        .getConfiguration()
        .configuration.servers.map((s) => s.id),
    ).not.toContain('d');
  });

  it('transfers leadership to a named server', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const leader = await cluster.waitForLeader();
    await cluster.apply('x=1');
    const target = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    await cluster.raft(leader).leadershipTransfer(target);
    await waitFor(() => cluster?.raft(target).state() === 'leader', 2000, `${target} leads`);
    expect(cluster.raft(leader).state()).not.toBe('leader');
  });

  it('installs a snapshot on a follower that fell behind the compacted log', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c'], 'memory', {
      heartbeatTimeout: 50,
      electionTimeout: 50,
      leaderLeaseTimeout: 50,
      snapshotThreshold: 10,
      trailingLogs: 2,
    });
    const c = cluster;
    const leader = await c.waitForLeader();
    const lagging = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    c.network.isolate(lagging);
    for (let i = 0; i < 40; i++) await c.apply(`k${i}=${i}`);
    await waitFor(
      async () => (await c.member(leader).storage.firstIndex()) > 5,
      3000,
      'the leader compacted its log',
    );
    c.network.heal();
    const { index } = await c.apply('healed=1');
    await c.waitForConvergence(index);
    expect(c.member(lagging).fsm.restores).toBeGreaterThan(0);
    expect(c.member(lagging).fsm.state.get('k39')).toBe('39');
  });

  it('serves a linearizable read on a follower through the leader, once the follower applied it', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c']);
    const c = cluster;
    const leader = await c.waitForLeader();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    await waitFor(() => c.raft(follower).leader() === leader, 2000, 'the follower knows the leader');
    // The follower gets no entries (heartbeats still come, so it keeps its leader): it lags.
    let confirmed = false;
    const unblock = c.network.filter((m) => {
      if (m.type === 'readIndexResponse' && m.to === follower) confirmed = true;
      return !(m.type === 'appendRequest' && m.to === follower);
    });
    const { index } = await c.apply('r=1');
    expect(c.raft(follower).stats().appliedIndex).toBeLessThan(index);
    const read = c
      .raft(follower)
      .readIndex()
      .then((readIndex) => ({
        readIndex,
        applied: c.raft(follower).stats().appliedIndex,
        value: c.member(follower).fsm.state.get('r'),
      }));
    // The leader confirmed the read at an index the follower has not applied: it must wait.
    await waitFor(() => confirmed, 2000, 'the leader to answer the read');
    unblock();
    const seen = await read;
    expect(seen.readIndex).toBeGreaterThanOrEqual(index);
    expect(seen.applied).toBeGreaterThanOrEqual(seen.readIndex);
    expect(seen.value).toBe('1');
  });
});
