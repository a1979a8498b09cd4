/**
 * Crashes (NodeCluster.kill: nothing not yet written survives, nothing is waited for) and restarts
 * of single members while the rest of the group keeps running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageBatch } from '../../src/storage/types.js';
import { NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

const carries = (text: string) => (batch: StorageBatch) =>
  batch.entries.some((e) => decoder.decode(e.data) === text);

/** The texts of the entries `id` holds in its store. */
async function storedTexts(c: NodeCluster, id: string): Promise<string[]> {
  const storage = c.member(id).storage;
  const entries = await storage.getLogs(await storage.firstIndex(), await storage.lastIndex());
  return entries.map((e) => decoder.decode(e.data));
}

/** Every running member holds every acknowledged write, each index applied once and in order. */
function expectAcknowledged(c: NodeCluster, acknowledged: ReadonlyMap<string, string>): void {
  for (const [id, m] of c.members) {
    if (m.raft === null) continue;
    for (const [key, value] of acknowledged) expect(m.fsm.state.get(key), `${key} on ${id}`).toBe(value);
    const applied = m.fsm.appliedIndexes;
    expect([...new Set(applied)].sort((x, y) => x - y)).toEqual(applied);
  }
}

describe('a member crashed in the middle of a write (LevelDB)', () => {
  it('a follower loses the batch it was writing, and catches up after its restart', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c'], 'level');
    const c = cluster;
    const leader = await c.waitForLeader();
    const victim = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    await c.apply('before=1');
    await c.waitForConvergence((await c.apply('before=2')).index);
    const crashed = c.crashOnWrite(victim, carries('mid=1'));
    // The other follower and the leader are a quorum: the write is acknowledged all the same.
    await c.apply('mid=1');
    await crashed;
    const kept = await storedTexts(c, victim);
    expect(kept).toContain('before=2');
    expect(kept).not.toContain('mid=1');
    const acknowledged = new Map([
      ['before', '2'],
      ['mid', '1'],
    ]);
    for (let i = 0; i < 5; i++) {
      await c.apply(`down${i}=1`);
      acknowledged.set(`down${i}`, '1');
    }
    await c.startNode(victim);
    const { index } = await c.apply('after=1');
    acknowledged.set('after', '1');
    await c.waitForConvergence(index);
    expectAcknowledged(c, acknowledged);
  });

  it('a leader with proposals in flight keeps every write it acknowledged through its crash and restart', async () => {
    cluster = await NodeCluster.start(['a', 'b', 'c'], 'level');
    const c = cluster;
    const leader = await c.waitForLeader();
    await c.apply('warm=1');
    const raft = c.raft(leader);
    const crashed = c.crashOnWrite(leader, carries('w10=1'));
    const acknowledged = new Map<string, string>([['warm', '1']]);
    const outcomes = Array.from({ length: 20 }, (_, i) =>
      raft.apply(encoder.encode(`w${i}=1`)).then(
        () => acknowledged.set(`w${i}`, '1'),
        (err: unknown) => err,
      ),
    );
    await crashed;
    await Promise.all(outcomes);
    // Nothing from the batch being written when it crashed, nor after, reached its disk.
    const kept = await storedTexts(c, leader);
    expect(kept).not.toContain('w10=1');
    expect(kept.filter((t) => /^w\d+=1$/.test(t)).every((t) => Number(t.slice(1, -2)) < 10)).toBe(true);
    const next = await c.waitForLeader();
    expect(next).not.toBe(leader);
    await c.startNode(leader);
    const { index } = await c.apply('after=1');
    acknowledged.set('after', '1');
    await c.waitForConvergence(index);
    expectAcknowledged(c, acknowledged);
  });
});

describe.each(['kill', 'stop'] as const)(
  'a follower that forwarded proposals restarts (%s) while the leader runs',
  (how) => {
    it('applies every write acknowledged to it, before and after its restart', async () => {
      cluster = await NodeCluster.start(['a', 'b', 'c']);
      const c = cluster;
      const leader = await c.waitForLeader();
      const follower = ['a', 'b', 'c'].find((id) => id !== leader) as string;
      await waitFor(() => c.raft(follower).leader() === leader, 2000, 'the follower knows the leader');
      const acknowledged = new Map<string, string>();
      const indexes: number[] = [];
      const forward = async (key: string, value: string) => {
        const { index } = await c.raft(follower).apply(encoder.encode(`${key}=${value}`));
        indexes.push(index);
        acknowledged.set(key, value);
      };
      for (let i = 0; i < 5; i++) await forward(`before${i}`, 'old');

      if (how === 'kill') await c.kill(follower);
      else await c.stop(follower);
      expect(c.raft(leader).state()).toBe('leader');
      await c.startNode(follower);
      await waitFor(
        () => c.raft(follower).leader() === leader,
        2000,
        'the restarted follower knows the leader',
      );
      for (let i = 0; i < 5; i++) await forward(`after${i}`, 'new');

      const { index } = await c.apply('fence=1');
      await c.waitForConvergence(index);
      expectAcknowledged(c, acknowledged);
      // Ten writes, ten entries: no acknowledgement stands for an earlier write.
      expect(new Set(indexes).size).toBe(10);
    });
  },
);
