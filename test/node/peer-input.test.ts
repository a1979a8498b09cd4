/**
 * Design §7 "Peer input never stops a member", at the node: forged input over the in-memory
 * network, from a transport that is no member of the group. Each test asserts that no member
 * stops, the group keeps committing, the forged input changed no state, and the drop was counted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message, SnapshotRequest } from '../../src/core/index.js';
import type { TransportHandler } from '../../src/index.js';
import type { InmemTransport } from '../../src/transport/index.js';
import { NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
let cluster: NodeCluster | null = null;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

const idle: TransportHandler = {
  onMessage: () => undefined,
  onSnapshot: async () => undefined,
  onForward: async () => ({
    ok: false,
    error: { code: 'NOT_LEADER', message: 'no', retryable: false, indefinite: false, leader: null },
  }),
};

/** A group of three with `k=good` committed everywhere, and an attacker's transport on its network. */
async function attackedGroup(): Promise<{ c: NodeCluster; leader: string; evil: InmemTransport }> {
  const c = await NodeCluster.start(['a', 'b', 'c']);
  cluster = c;
  const { index } = await c.apply('k=good');
  await c.waitForConvergence(index);
  const evil = c.network.transport('evil');
  await evil.start(idle);
  return { c, leader: await c.waitForLeader(), evil };
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  yield encoder.encode(text);
}

/** Proves the group still commits and every member holds `k=value`. */
async function stillCommitting(c: NodeCluster, value: string): Promise<void> {
  const { index } = await c.apply('after=1');
  await c.waitForConvergence(index);
  for (const id of ['a', 'b', 'c']) {
    expect(c.member(id).fsm.state.get('k')).toBe(value);
    expect(
      c
        .raft(id)
        .getConfiguration()
        .configuration.servers.map((s) => s.id),
    ).toEqual(['a', 'b', 'c']);
  }
}

describe('forged peer input over the in-memory network', () => {
  it('a heartbeat "from a follower" at the leader’s term does not stop the leader', async () => {
    const { c, leader, evil } = await attackedGroup();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    const term = c.raft(leader).stats().term;
    const forged: Message = {
      type: 'heartbeatRequest',
      from: follower,
      to: leader,
      term,
      commit: 0,
      context: 0,
    };
    evil.send(forged);
    await waitFor(
      () => (c.raft(leader).stats().droppedMessages.secondLeader ?? 0) === 1,
      2000,
      'the forged heartbeat to be counted',
    );
    await stillCommitting(c, 'good');
  });

  it('an InstallSnapshot at a stale term is refused before a byte is stored, and never loaded', async () => {
    const { c, leader, evil } = await attackedGroup();
    const victim = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    const stale = c.raft(victim).stats().term - 1;
    expect(stale).toBeGreaterThan(0);
    const forged: SnapshotRequest = {
      type: 'snapshotRequest',
      from: 'evil',
      to: victim,
      term: stale,
      snapshot: {
        index: 1000,
        term: stale,
        config: { servers: [{ id: 'evil', suffrage: 'voter' }] },
        configIndex: 1000,
      },
    };
    // Refused on the core's verdict, before any data was stored.
    await expect(evil.sendSnapshot(forged, bytesOf(JSON.stringify([['k', 'forged']])))).rejects.toThrow(
      `snapshot 1000/${stale} from evil refused: a stale term, not from the leader, or malformed`,
    );
    expect(c.raft(victim).stats().droppedMessages.snapshotRefused).toBe(1);
    expect((await c.member(victim).storage.list()).map((r) => r.meta.index)).not.toContain(1000);
    // A restart loads only what Raft accepted.
    await c.kill(victim);
    await c.startNode(victim);
    await stillCommitting(c, 'good');
  });

  it('an AppendEntries above the byte bound per message is dropped and counted', async () => {
    const { c, leader, evil } = await attackedGroup();
    const victim = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    const { term, lastLogIndex, lastLogTerm } = c.raft(victim).stats();
    const big = new Uint8Array(600 * 1024).fill(0x41);
    const entries = [1, 2].map((i) => ({
      index: lastLogIndex + i,
      term,
      type: 'command' as const,
      data: big,
    }));
    evil.send({
      type: 'appendRequest',
      from: leader,
      to: victim,
      term,
      prevIndex: lastLogIndex,
      prevTerm: lastLogTerm,
      entries,
      commit: 0,
    });
    await waitFor(
      () => (c.raft(victim).stats().droppedMessages.tooManyBytes ?? 0) === 1,
      2000,
      'the oversized append to be counted',
    );
    await stillCommitting(c, 'good');
  });

  it('a snapshot request without its data (as a plain message) is dropped, not installed', async () => {
    const { c, leader, evil } = await attackedGroup();
    const victim = ['a', 'b', 'c'].find((id) => id !== leader) as string;
    const { term } = c.raft(victim).stats();
    const servers = ['a', 'b', 'c'].map((id) => ({ id, suffrage: 'voter' as const }));
    // Installing it would find no data in the store and fail-stop the member (CORRUPTION).
    evil.send({
      type: 'snapshotRequest',
      from: leader,
      to: victim,
      term,
      snapshot: { index: 1000, term, config: { servers }, configIndex: 1 },
    });
    await waitFor(
      () => (c.raft(victim).stats().droppedMessages.snapshotWithoutData ?? 0) === 1,
      2000,
      'the data-less snapshot request to be counted',
    );
    await stillCommitting(c, 'good');
  });
});
