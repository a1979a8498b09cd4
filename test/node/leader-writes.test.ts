/**
 * A leader's own writes run while its loop goes on (RaftCore.accept / persisted): it keeps taking
 * proposals and replicating them, commits nothing it has not persisted itself, and stops when
 * such a write fails.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { isRaftError } from '../../src/errors.js';
import type { RaftStorage, StorageBatch } from '../../src/storage/types.js';
import { InmemNetwork, type InmemTransport } from '../../src/transport/index.js';
import { FAST, NodeCluster } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
const clusters: NodeCluster[] = [];

afterEach(async () => {
  for (const c of clusters.splice(0)) for (const id of c.members.keys()) await c.kill(id);
});

/** Controls the writes of one member's storage: hold them back, or make them fail. */
class WriteControl {
  target: string | null = null;
  failing = false;
  private release: (() => void) | null = null;
  private gate: Promise<void> | null = null;

  hold(id: string): void {
    this.target = id;
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
  }

  open(): void {
    this.release?.();
    this.gate = null;
  }

  wrap(id: string, storage: RaftStorage): void {
    const writeBatch = storage.writeBatch.bind(storage);
    storage.writeBatch = async (batch: StorageBatch) => {
      if (this.target === id && this.gate !== null) await this.gate;
      if (this.target === id && this.failing) throw new Error('disk failure');
      return writeBatch(batch);
    };
  }
}

/** A 3-server group whose transports report every successful append answer the leader receives. */
async function startGroup(control: WriteControl) {
  const network = new InmemNetwork({ seed: 3 });
  const answers: Message[] = [];
  const transport = (id: string): InmemTransport => {
    const t = network.transport(id);
    const start = t.start.bind(t);
    t.start = (handler) =>
      start({
        ...handler,
        onMessage: (m) => {
          if (m.type === 'appendResponse' && m.success) answers.push(m);
          handler.onMessage(m);
        },
      });
    return t;
  };
  const cluster = await NodeCluster.start(['a', 'b', 'c'], 'memory', FAST, transport);
  clusters.push(cluster);
  for (const [id, m] of cluster.members) control.wrap(id, m.storage);
  const leader = await cluster.waitForLeader();
  await cluster.raft(leader).apply(encoder.encode('warm=1'));
  return { cluster, network, leader, answers, followers: ['a', 'b', 'c'].filter((id) => id !== leader) };
}

describe("a leader's writes in flight", () => {
  it('takes and replicates proposals while its write runs, and commits them only once it is done', async () => {
    const control = new WriteControl();
    const { cluster, leader, answers, followers } = await startGroup(control);
    const raft = cluster.raft(leader);
    const before = raft.stats().lastLogIndex;

    control.hold(leader);
    const first = raft.apply(encoder.encode('x=1'));
    const second = raft.apply(encoder.encode('y=2'));
    const x = before + 1;
    const y = before + 2;
    // Both entries reach the followers, and their acknowledgements reach the leader, while the
    // leader's own first write is still held back.
    await waitFor(
      () =>
        followers.every((f) =>
          answers.some((m) => m.from === f && m.type === 'appendResponse' && m.index >= y),
        ),
      2000,
      'both followers to acknowledge both entries',
    );
    expect(raft.stats().lastLogIndex).toBe(y);
    // The followers alone are a quorum, but the leader commits only what it holds on disk itself.
    expect(raft.stats().commitIndex).toBeLessThan(x);
    expect(await cluster.member(leader).storage.lastIndex()).toBeLessThan(x);

    control.open();
    expect((await first).index).toBe(x);
    expect((await second).index).toBe(y);
    expect(raft.stats().commitIndex).toBeGreaterThanOrEqual(y);
    expect(cluster.member(leader).fsm.state.get('y')).toBe('2');
  });

  it('stops when a write it let run fails, and fails the proposals waiting on it', async () => {
    const control = new WriteControl();
    const { cluster, leader } = await startGroup(control);
    const raft = cluster.raft(leader);
    control.target = leader;
    control.failing = true;
    const err = await raft.apply(encoder.encode('z=1')).catch((e: unknown) => e);
    expect(isRaftError(err) && err.code).toBe('SHUTDOWN');
    expect(isRaftError(err) && err.indefinite).toBe(true);
    await expect(raft.apply(encoder.encode('z=2'))).rejects.toMatchObject({ code: 'SHUTDOWN' });
    // The others go on without it.
    await waitFor(
      () => [...cluster.members].some(([id, m]) => id !== leader && m.raft?.state() === 'leader'),
      3000,
      'a new leader among the others',
    );
  });

  it('fails a leadership transfer in progress when a write fails, with the failure as its cause', async () => {
    const control = new WriteControl();
    const { cluster, network, leader, followers } = await startGroup(control);
    const raft = cluster.raft(leader);
    const target = followers[0] ?? '';
    // The target never hears from the leader again, so the transfer cannot complete.
    network.cut(leader, target);
    control.hold(leader);
    const write = raft.apply(encoder.encode('z=1')).catch((e: unknown) => e);
    const transfer = raft.leadershipTransfer(target, { timeoutMs: 20_000 }).catch((e: unknown) => e);
    await waitFor(() => raft.stats().transferTarget === target, 2000, 'the transfer to begin');
    control.failing = true;
    control.open();
    for (const err of [await transfer, await write]) {
      expect(err).toMatchObject({ code: 'SHUTDOWN', indefinite: true });
      expect((err as Error).cause).toMatchObject({ message: 'disk failure' });
    }
    // A shutdown after the failure waits for the same stop and does not throw.
    await raft.shutdown();
  });
});
