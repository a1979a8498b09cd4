import { afterEach, describe, expect, it } from 'vitest';
import type { ForwardRequest } from '../../src/index.js';
import { NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

async function threeNodes() {
  cluster = await NodeCluster.start(['a', 'b', 'c']);
  const leader = await cluster.waitForLeader();
  const followers = ['a', 'b', 'c'].filter((id) => id !== leader);
  for (const f of followers)
    await waitFor(() => cluster?.raft(f).leader() === leader, 2000, `${f} knows the leader`);
  return { c: cluster, leader, followers };
}

describe('leader forwarding', () => {
  it('a follower forwards apply and barrier to the leader and gets the FSM response', async () => {
    const { c, followers } = await threeNodes();
    const follower = c.raft(followers[0] as string);
    const first = await follower.apply(encoder.encode('x=1'));
    const second = await follower.apply(encoder.encode('x=2'));
    expect(second.index).toBeGreaterThan(first.index);
    expect(second.response).toBe('1');
    const { index } = await follower.barrier();
    expect(index).toBeGreaterThan(second.index);
    await c.waitForConvergence(index);
  });

  it('a follower forwards addVoter and removeServer', async () => {
    const { c, leader, followers } = await threeNodes();
    await c.addEmpty('d');
    const follower = c.raft(followers[0] as string);
    await follower.addVoter('d');
    await waitFor(
      () =>
        c
          .raft(leader)
          .getConfiguration()
          .configuration.servers.some((s) => s.id === 'd' && s.suffrage === 'voter'),
      5000,
      'd promoted',
    );
    await follower.removeServer('d');
    expect(
      c
        .raft(leader)
        .getConfiguration()
        .configuration.servers.map((s) => s.id),
    ).not.toContain('d');
  });

  it('a server that knows no leader yet reaches it by broadcast (a joining server adds itself)', async () => {
    const { c, leader } = await threeNodes();
    const joiner = await c.addEmpty('d');
    expect(joiner.raft?.leader()).toBeNull();
    await joiner.raft?.addNonvoter('d');
    expect(
      c
        .raft(leader)
        .getConfiguration()
        .configuration.servers.map((s) => s.id),
    ).toContain('d');
  });

  it('a duplicated forwarded request is proposed once', async () => {
    const { c, leader, followers } = await threeNodes();
    const sender = c.network.transport(followers[0] as string);
    const request: ForwardRequest = {
      kind: 'apply',
      origin: 'client-x',
      seq: 1,
      data: encoder.encode('dup=1'),
    };
    const [one, two] = await Promise.all([
      sender.forward(leader, request, { timeoutMs: 2000 }),
      sender.forward(leader, request, { timeoutMs: 2000 }),
    ]);
    const again = await sender.forward(leader, request, { timeoutMs: 2000 });
    expect(one).toMatchObject({ ok: true });
    expect(two).toEqual(one);
    expect(again).toEqual(one);
    const { index } = await c.apply('after=1');
    await c.waitForConvergence(index);
    const storage = c.member(leader).storage;
    const log = await storage.getLogs(await storage.firstIndex(), await storage.lastIndex());
    const copies = log.filter((e) => new TextDecoder().decode(e.data) === 'dup=1');
    expect(copies).toHaveLength(1);
  });

  it('a follower that receives a forwarded request answers NOT_LEADER with its leader hint', async () => {
    const { c, leader, followers } = await threeNodes();
    const [f1, f2] = followers as [string, string];
    const answer = await c.network
      .transport(f1)
      .forward(f2, { kind: 'barrier', origin: f1, seq: 99 }, { timeoutMs: 2000 });
    expect(answer).toMatchObject({ ok: false, error: { code: 'NOT_LEADER', leader } });
  });
});
