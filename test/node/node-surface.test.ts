/**
 * What the node tells its callers: follower progress and last contact by role, how calls pending
 * at a shutdown fail (an unknown outcome, never "not applied"), and the flags and texts of the
 * refusals a caller decides on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError, type RaftError } from '../../src/index.js';
import { FAST, NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

async function threeNodes(config = FAST) {
  cluster = await NodeCluster.start(['a', 'b', 'c'], 'memory', config);
  const leader = await cluster.waitForLeader();
  const followers = ['a', 'b', 'c'].filter((id) => id !== leader) as [string, string];
  for (const f of followers)
    await waitFor(() => cluster?.raft(f).leader() === leader, 2000, `${f} knows the leader`);
  return { c: cluster, leader, followers };
}

async function failure(promise: Promise<unknown>): Promise<RaftError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isRaftError(err)).toBe(true);
  return err as RaftError;
}

describe('the node reports', () => {
  it('the progress of every other server on the leader, and none on a follower', async () => {
    const { c, leader, followers } = await threeNodes();
    const { index } = await c.apply('x=1');
    await c.waitForConvergence(index);
    const before = Date.now();
    await waitFor(
      () => (c.raft(leader).followerProgress() ?? []).every((p) => p.matchIndex >= index),
      2000,
      'the leader to hear both followers at the index',
    );
    const progress = c.raft(leader).followerProgress() ?? [];
    expect(progress.map((p) => p.id).sort()).toEqual([...followers].sort());
    for (const p of progress) {
      expect(p.matchIndex).toBeGreaterThanOrEqual(index);
      expect(p.lastContact).not.toBeNull();
      expect(Date.now() - (p.lastContact as number)).toBeLessThan(Date.now() - before + 2000);
    }
    expect(c.raft(followers[0]).followerProgress()).toBeNull();
  });

  it('last contact: now on the leader; on a follower, when it last heard the leader, not another member', async () => {
    const { c, leader, followers } = await threeNodes();
    const [cutOff, other] = followers;
    const before = Date.now();
    const own = c.raft(leader).lastContact() as number;
    expect(own).toBeGreaterThanOrEqual(before);
    expect(own).toBeLessThanOrEqual(Date.now());
    const follower = c.raft(cutOff);
    await waitFor(
      () => (follower.lastContact() ?? 0) >= before,
      2000,
      'the follower to hear the leader again',
    );
    c.network.partition([leader], [cutOff]);
    const cut = Date.now();
    // Cut off from the leader, the follower still hears the other follower: that is no contact
    // with the leader. (An answer to nothing, which a follower ignores.)
    let delivered = 0;
    c.network.filter((m) => {
      if (m.from === other && m.to === cutOff) delivered++;
      return true;
    });
    const term = c.raft(other).stats().term;
    c.member(other).transport?.send({ type: 'heartbeatResponse', from: other, to: cutOff, term, context: 0 });
    // The in-memory network delivers in a microtask: by the next turn the node has taken it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(delivered).toBe(1);
    expect(follower.lastContact() as number).toBeLessThanOrEqual(cut);
  });
});

describe('a shutdown', () => {
  it('fails a write whose entry is in the log as an unknown outcome, and later calls as definite', async () => {
    const { c, leader, followers } = await threeNodes();
    // The followers cannot hear the leader: its entry is appended but cannot commit.
    for (const f of followers) c.network.partition([leader], [f]);
    const pending = failure(c.raft(leader).apply(encoder.encode('lost=?'), { timeoutMs: 10_000 }));
    await waitFor(
      () => c.raft(leader).stats().lastLogIndex > c.raft(leader).stats().commitIndex,
      2000,
      'the entry in the log',
    );
    await c.raft(leader).shutdown();
    const err = await pending;
    expect(err).toMatchObject({ code: 'SHUTDOWN', message: 'the node is shut down', indefinite: true });
    const later = await failure(c.raft(leader).apply(encoder.encode('after=1')));
    expect(later).toMatchObject({ code: 'SHUTDOWN', message: 'the node is shut down', indefinite: false });
    const read = await failure(c.raft(leader).barrier());
    expect(read).toMatchObject({ code: 'SHUTDOWN', indefinite: false });
  });
});

describe('refusals', () => {
  it('a membership change on a stale configuration index: CONFIGURATION_CHANGED, named, not retryable', async () => {
    const { c, leader } = await threeNodes();
    const { index } = c.raft(leader).getConfiguration();
    await c.addEmpty('d');
    await c.raft(leader).addNonvoter('d', { prevIndex: index });
    const err = await failure(c.raft(leader).removeServer('d', { prevIndex: index }));
    expect(err.code).toBe('CONFIGURATION_CHANGED');
    expect(err.message).toMatch(/^removeServer d: /);
    expect(err.retryable).toBe(false);
    expect(err.indefinite).toBe(false);
  });

  it('a change that would leave no voter: INVALID_INPUT, named, not retryable', async () => {
    cluster = await NodeCluster.start(['a']);
    await cluster.waitForLeader();
    const err = await failure(cluster.raft('a').removeServer('a', { timeoutMs: 10_000 }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/^removeServer a: /);
    expect(err.retryable).toBe(false);
    expect(err.indefinite).toBe(false);
  });

  it('a follower that does not forward fails with NOT_LEADER naming the leader, leaving the caller to go there', async () => {
    const { c, leader, followers } = await threeNodes({ ...FAST, forwardToLeader: false });
    const started = Date.now();
    const err = await failure(c.raft(followers[0]).apply(encoder.encode('x=1'), { timeoutMs: 10_000 }));
    // At its first refusal, not after retrying until the call's deadline.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ code: 'NOT_LEADER', leader, retryable: true, indefinite: false });
    expect(err.message).toMatch(/^apply: /);
  });

  it('a leadership transfer to itself or to no voter is INVALID_INPUT and not retryable; one cut short may still happen', async () => {
    const { c, leader, followers } = await threeNodes();
    const self = await failure(c.raft(leader).leadershipTransfer(leader));
    expect(self).toMatchObject({
      code: 'INVALID_INPUT',
      message: `leadershipTransfer: ${leader} is already the leader`,
      retryable: false,
    });
    await c.addEmpty('d');
    await c.raft(leader).addNonvoter('d');
    const nonvoter = await failure(c.raft(leader).leadershipTransfer('d'));
    expect(nonvoter).toMatchObject({
      code: 'INVALID_INPUT',
      message: 'leadershipTransfer: d is not a voter',
      retryable: false,
    });
    // The target is cut off: the caller stops waiting first, and the hand-over may still happen.
    c.network.isolate(followers[0]);
    const short = await failure(c.raft(leader).leadershipTransfer(followers[0], { timeoutMs: 1 }));
    expect(short).toMatchObject({ code: 'TIMEOUT', indefinite: true });
  });
});
