import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError, MemoryStore, Raft, type RaftEvents } from '../../src/index.js';
import { KvFsm } from '../support/kv-fsm.js';
import { FAST, NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

async function threeNodes(config = FAST): Promise<{ c: NodeCluster; leader: string; followers: string[] }> {
  cluster = await NodeCluster.start(['a', 'b', 'c'], 'memory', config);
  const leader = await cluster.waitForLeader();
  await cluster.apply('warm=up');
  return { c: cluster, leader, followers: ['a', 'b', 'c'].filter((id) => id !== leader) };
}

describe('the Raft node API', () => {
  it('emits state, leader and peer changes, and failed and resumed heartbeats', async () => {
    const { c, leader, followers } = await threeNodes();
    const events: Array<[keyof RaftEvents, unknown]> = [];
    const raft = c.raft(leader);
    raft.on('heartbeatFailed', (e) => events.push(['heartbeatFailed', e.peer]));
    raft.on('heartbeatResumed', (e) => events.push(['heartbeatResumed', e.peer]));
    raft.on('peerChange', (e) => events.push(['peerChange', e.configuration.servers.length]));
    const cut = followers[0] as string;
    c.network.isolate(cut);
    await waitFor(
      () => events.some(([k, v]) => k === 'heartbeatFailed' && v === cut),
      2000,
      'heartbeatFailed',
    );
    c.network.heal();
    await waitFor(
      () => events.some(([k, v]) => k === 'heartbeatResumed' && v === cut),
      2000,
      'heartbeatResumed',
    );
    await c.addEmpty('d');
    await raft.addNonvoter('d');
    expect(events).toContainEqual(['peerChange', 4]);

    const changes: Array<RaftEvents['stateChange']> = [];
    const leaders: Array<RaftEvents['leaderChange']> = [];
    raft.on('stateChange', (e) => changes.push(e));
    raft.on('leaderChange', (e) => leaders.push(e));
    await raft.leadershipTransfer();
    expect(changes[0]).toMatchObject({ previous: 'leader', current: 'follower' });
    await waitFor(
      () => leaders.some((e) => e.leader !== null && e.leader !== leader),
      2000,
      'a new leader is announced',
    );
  });

  it('adds a non-voter that is never promoted, and demotes a voter', async () => {
    const { c, leader, followers } = await threeNodes();
    await c.addEmpty('d');
    await c.raft(leader).addNonvoter('d');
    const { index } = await c.apply('x=1');
    await c.waitForConvergence(index);
    const suffrage = (id: string) =>
      c
        .raft(leader)
        .getConfiguration()
        .configuration.servers.find((s) => s.id === id)?.suffrage;
    expect(suffrage('d')).toBe('nonvoter');
    expect(c.member('d').fsm.state.get('x')).toBe('1');
    await c.raft(leader).demoteVoter(followers[0] as string);
    expect(suffrage(followers[0] as string)).toBe('nonvoter');
  });

  it("defers a non-voter's silent Readies, never past what the leader counts as its match", async () => {
    const { c, leader } = await threeNodes();
    await c.addEmpty('d');
    await c.raft(leader).addNonvoter('d');
    let last = 0;
    for (let i = 0; i < 20; i++) last = (await c.apply(`k${i}=v`)).index;
    await c.waitForConvergence(last);
    expect(c.raft('d').stats().readiesDeferred).toBeGreaterThan(0);
    for (const id of ['a', 'b', 'c']) expect(c.raft(id).stats().readiesDeferred).toBe(0);
    const matched =
      c
        .raft(leader)
        .followerProgress()
        ?.find((p) => p.id === 'd')?.matchIndex ?? 0;
    expect(matched).toBeGreaterThan(0);
    // A crash loses what waits in memory, never what the non-voter acknowledged.
    await c.kill('d');
    expect(await c.member('d').storage.lastIndex()).toBeGreaterThanOrEqual(matched);
  });

  it('refuses a membership change guarded by a stale configuration index', async () => {
    const { c, leader } = await threeNodes();
    const { index } = c.raft(leader).getConfiguration();
    await c.addEmpty('d');
    await c.raft(leader).addNonvoter('d', { prevIndex: index });
    const err = await c
      .raft(leader)
      .removeServer('d', { prevIndex: index })
      .catch((e: unknown) => e);
    expect(isRaftError(err, 'CONFIGURATION_CHANGED')).toBe(true);
  });

  it('reports stats, last contact and leadership', async () => {
    const { c, leader, followers } = await threeNodes();
    const follower = c.raft(followers[0] as string);
    await waitFor(() => follower.lastContact() !== null, 2000, 'the follower heard the leader');
    expect(Date.now() - (follower.lastContact() as number)).toBeLessThan(2000);
    const stats = c.raft(leader).stats();
    expect(stats).toMatchObject({ id: leader, state: 'leader', leader, voters: 3 });
    expect(stats.commitIndex).toBeGreaterThanOrEqual(stats.appliedIndex);
    expect(stats.batchesPersisted).toBeGreaterThan(0);
    await expect(follower.verifyLeader()).rejects.toMatchObject({ code: 'NOT_LEADER', leader });
  });

  it('gives up on an aborted call with TIMEOUT', async () => {
    const { c, leader } = await threeNodes();
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    const err = await c
      .raft(leader)
      .apply(encoder.encode('x=1'), { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(isRaftError(err, 'TIMEOUT')).toBe(true);
  });

  it('takes snapshots by interval even below the threshold', async () => {
    const { c, leader } = await threeNodes({ ...FAST, snapshotInterval: 20, snapshotThreshold: 1_000_000 });
    await c.apply('y=2');
    await waitFor(
      async () => (await c.member(leader).storage.list()).length > 0,
      3000,
      'an interval snapshot',
    );
  });

  it('recovers a group that lost its quorum, keeping the survivor’s data', async () => {
    const { c, leader, followers } = await threeNodes();
    for (let i = 0; i < 5; i++) await c.apply(`k${i}=${i}`);
    const survivor = followers[0] as string;
    const { index } = await c.apply('last=1');
    await c.waitForConvergence(index);
    for (const id of [leader, followers[1] as string, survivor]) await c.kill(id);
    const storage = c.member(survivor).storage;
    await Raft.recoverCluster(storage, new KvFsm(), { servers: [{ id: survivor, suffrage: 'voter' }] });
    const raft = await c.startNode(survivor);
    await waitFor(() => raft.state() === 'leader', 2000, 'the survivor leads alone');
    expect(c.member(survivor).fsm.state.get('last')).toBe('1');
    await raft.apply(encoder.encode('after=recovery'));
    expect(c.member(survivor).fsm.state.get('after')).toBe('recovery');
  });

  it('refuses to start on a transport for another id', async () => {
    const storage = new MemoryStore();
    await expect(
      Raft.start({
        config: { ...FAST, localId: 'a' },
        fsm: new KvFsm(),
        storage,
        transport: new (await import('../../src/index.js')).InmemNetwork().transport('b'),
      }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});

describe('calls that give up', () => {
  it('a call aborted while queued behind the loop fails definitely and is never proposed', async () => {
    const { c, leader } = await threeNodes();
    const raft = c.raft(leader);
    // Hold the leader's loop inside the FSM's apply of `block`, so the next call waits its turn.
    const fsm = c.member(leader).fsm;
    const applyOne = fsm.apply.bind(fsm);
    let release = (): void => undefined;
    let holding = false;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    (fsm as { apply: (e: Parameters<KvFsm['apply']>[0]) => unknown }).apply = async (entry) => {
      const result = applyOne(entry);
      if (new TextDecoder().decode(entry.data) === 'block=1') {
        holding = true;
        await held;
      }
      return result;
    };
    const blocker = raft.apply(encoder.encode('block=1'));
    await waitFor(() => holding, 2000, 'the loop to be held in the FSM');
    const controller = new AbortController();
    const pending = raft
      .apply(encoder.encode('never=1'), { signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort();
    const err = await pending;
    release();
    await blocker;
    expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    expect(isRaftError(err) && err.indefinite).toBe(false);
    const { index } = await c.apply('fence=1');
    await c.waitForConvergence(index);
    for (const m of c.members.values()) expect(m.fsm.state.has('never')).toBe(false);
  });

  it('a call aborted once its entry is in the log fails indefinitely, and the entry still commits', async () => {
    const { c, leader } = await threeNodes();
    const raft = c.raft(leader);
    // The followers get no entries (heartbeats still flow, so the leader keeps leading).
    const unblock = c.network.filter((m) => !(m.type === 'appendRequest' && m.from === leader));
    const before = raft.stats().lastLogIndex;
    const controller = new AbortController();
    const pending = raft
      .apply(encoder.encode('maybe=1'), { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitFor(() => raft.stats().lastLogIndex > before, 2000, 'the entry in the leader’s log');
    controller.abort();
    const err = await pending;
    expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    expect(isRaftError(err) && err.indefinite).toBe(true);
    expect(c.member(leader).fsm.state.has('maybe')).toBe(false);
    unblock();
    // "Indefinite" was the truth: the abandoned entry commits once the followers get it.
    const { index } = await c.apply('fence=1');
    await c.waitForConvergence(index);
    for (const m of c.members.values()) expect(m.fsm.state.get('maybe')).toBe('1');
  });
});
