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
      // A member speaks only for itself (the leader refuses a forward whose origin is not its sender).
      origin: followers[0] as string,
      incarnation: 'i1',
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
      .forward(f2, { kind: 'barrier', origin: f1, incarnation: 'i1', seq: 99 }, { timeoutMs: 2000 });
    expect(answer).toMatchObject({ ok: false, error: { code: 'NOT_LEADER', leader } });
  });

  it('a forward whose leader is lost fails at once with an indefinite LEADERSHIP_LOST', async () => {
    const { c, leader, followers } = await threeNodes();
    const follower = c.raft(followers[0] as string);
    // The leader still receives (so the forward reaches it) but nothing it sends arrives: it can
    // neither commit nor answer, and the followers elect another leader.
    c.network.filter((m) => m.from !== leader);
    // Its deadline is past the test's: without the leader-loss check the call would hang here.
    const err = await follower
      .apply(encoder.encode('pinned=1'), { timeoutMs: 120_000 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LEADERSHIP_LOST', indefinite: true });
  });

  it('an idempotent apply goes on through the next leader when the leader is lost', async () => {
    const { c, leader, followers } = await threeNodes();
    const follower = c.raft(followers[0] as string);
    c.network.filter((m) => m.from !== leader);
    const { index } = await follower.apply(encoder.encode('moved=1'), {
      timeoutMs: 120_000,
      idempotent: true,
    });
    const next = await c.waitForLeader();
    expect(next).not.toBe(leader);
    await waitFor(() => c.member(next).fsm.state.get('moved') === '1', 5000, 'the new leader applies it');
    expect(c.raft(next).stats().appliedIndex).toBeGreaterThanOrEqual(index);
  });

  it('a restarted follower is never answered with what its previous process was told', async () => {
    const { c, followers } = await threeNodes();
    const id = followers[0] as string;
    for (let i = 1; i <= 3; i++) await c.raft(id).apply(encoder.encode(`old${i}=x`));
    await c.kill(id);
    await c.startNode(id);
    await waitFor(() => c.raft(id).leader() !== null, 5000, `${id} knows the leader again`);
    for (let i = 1; i <= 3; i++) await c.raft(id).apply(encoder.encode(`new${i}=y`));
    const { index } = await c.apply('fence=1');
    await c.waitForConvergence(index);
    expect(['new1', 'new2', 'new3'].map((k) => c.member(id).fsm.state.get(k))).toEqual(['y', 'y', 'y']);
  });
});
