/**
 * Issue 13, item 3 (design §7 "Peer input never stops a member"), from a raw MQTT 3.1.1 client on
 * the group's broker: each test re-runs one attack and asserts that no member stops, the group
 * keeps committing, the forged input changed no state, and the drop was counted.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttTransport } from '../../src/index.js';
import { msgpackDecode, msgpackEncode } from '../../src/msgpack.js';
import { FAST, NodeCluster } from '../support/node-cluster.js';
import { useBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const broker = useBroker();
const IDS = ['a', 'b', 'c'];
let cluster: NodeCluster | null = null;
let attacker: MqttClient | null = null;
let counter = 0;

afterEach(async () => {
  await attacker?.endAsync();
  attacker = null;
  await cluster?.shutdown();
  cluster = null;
});

interface Group {
  readonly c: NodeCluster;
  readonly name: string;
  /** Each member's current transport (a restart makes a new one). */
  readonly transports: Map<string, MqttTransport>;
  readonly leader: string;
  readonly follower: string;
}

/** Three members on LevelDB over the broker, `k=good` committed everywhere, and a connected attacker. */
async function attackedGroup(): Promise<Group> {
  const name = `sec${++counter}`;
  const transports = new Map<string, MqttTransport>();
  const c = await NodeCluster.start(IDS, 'level', FAST, (id) => {
    const t = new MqttTransport({ localId: id, url: broker.url, cluster: name });
    transports.set(id, t);
    return t;
  });
  cluster = c;
  const { index } = await c.apply('k=good', 10_000);
  await c.waitForConvergence(index, 10_000);
  attacker = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  const leader = await c.waitForLeader();
  const follower = IDS.find((id) => id !== leader) as string;
  return { c, name, transports, leader, follower };
}

/** Publishes one envelope (docs/protocol.md §3) to `to`'s inbox, claiming to come from `from`. */
async function forge(g: Group, k: string, from: string, to: string, b: unknown, id = ''): Promise<void> {
  const envelope = { v: 2, k, id, f: from, t: to, c: g.name, b };
  await (attacker as MqttClient).publishAsync(
    `mqtt-raft/${g.name}/node/${to}/in`,
    Buffer.from(msgpackEncode(envelope)),
    {
      qos: 1,
    },
  );
}

function dropsOf(g: Group, id: string): Readonly<Record<string, number>> {
  // `?? {}` only so that a run against the code before the fix shows the attack, not a TypeError.
  return g.c.raft(id).stats().droppedMessages ?? {};
}

/** No member stopped, the group still commits, and every member still holds `k=good` and only a, b, c. */
async function unharmed(g: Group): Promise<void> {
  const { index } = await g.c.apply(`after=${++counter}`, 10_000);
  await g.c.waitForConvergence(index, 10_000);
  for (const id of IDS) {
    expect(g.c.member(id).fsm.state.get('k')).toBe('good');
    expect(
      g.c
        .raft(id)
        .getConfiguration()
        .configuration.servers.map((s) => s.id),
    ).toEqual(IDS);
  }
}

describe('forged peer input from a raw MQTT client', () => {
  it('a heartbeat "from a follower" at the leader’s term does not stop the leader', async () => {
    const g = await attackedGroup();
    const term = g.c.raft(g.leader).stats().term;
    await forge(g, 'heartbeatRequest', g.follower, g.leader, { term, commit: 0, context: 0 });
    await waitFor(() => dropsOf(g, g.leader).secondLeader === 1, 5000, 'the forged heartbeat to be counted');
    await unharmed(g);
  });

  it('an acknowledgement above the leader’s log is dropped, and the leader does not spin', async () => {
    const g = await attackedGroup();
    const term = g.c.raft(g.leader).stats().term;
    const ack = { term, success: true, index: 1_000_000_000, hintIndex: 0, hintTerm: 0 };
    await forge(g, 'appendResponse', g.follower, g.leader, ack);
    await waitFor(() => dropsOf(g, g.leader).indexBeyondLog === 1, 5000, 'the forged ack to be counted');
    await unharmed(g);
  });

  it('an AppendEntries with a configuration entry that does not decode is dropped, not persisted', async () => {
    const g = await attackedGroup();
    const { term, lastLogIndex, lastLogTerm } = g.c.raft(g.follower).stats();
    const entries = [{ index: lastLogIndex + 1, term, type: 'config', data: new TextEncoder().encode('{') }];
    const body = { term, prevIndex: lastLogIndex, prevTerm: lastLogTerm, entries, commit: 0 };
    await forge(g, 'appendRequest', g.leader, g.follower, body);
    await waitFor(
      () => dropsOf(g, g.follower).badConfiguration === 1,
      5000,
      'the forged entry to be counted',
    );
    // A restart reads back only what was accepted (it used to fail on the stored entry for good).
    await g.c.kill(g.follower);
    await g.c.startNode(g.follower);
    await unharmed(g);
  });

  it('an AppendEntries with more entries than any member sends is dropped before validation', async () => {
    const g = await attackedGroup();
    const transport = g.transports.get(g.follower) as MqttTransport;
    const { term, lastLogIndex, lastLogTerm } = g.c.raft(g.follower).stats();
    const entries = Array.from({ length: 20_000 }, (_, i) => ({
      index: lastLogIndex + 1 + i,
      term,
      type: 'command',
      data: new Uint8Array(1),
    }));
    await forge(g, 'appendRequest', g.leader, g.follower, {
      term,
      prevIndex: lastLogIndex,
      prevTerm: lastLogTerm,
      entries,
      commit: 0,
    });
    await waitFor(
      () => transport.stats.droppedReasons.tooManyEntries === 1,
      5000,
      'the flood to be counted by the transport',
    );
    await unharmed(g);
    expect(g.c.raft(g.follower).stats().lastLogIndex).toBeLessThan(lastLogIndex + 20_000);
  });

  it('an InstallSnapshot at a stale term is refused before a byte is written, and never loaded', async () => {
    const g = await attackedGroup();
    const stale = g.c.raft(g.follower).stats().term - 1;
    expect(stale).toBeGreaterThan(0);
    const results: unknown[] = [];
    await attacker?.subscribeAsync(`mqtt-raft/${g.name}/node/evil/reply`, { qos: 1 });
    attacker?.on('message', (_topic, payload) => results.push(msgpackDecode(new Uint8Array(payload))));
    const snapshot = {
      index: 1000,
      term: stale,
      config: { servers: [{ id: 'evil', suffrage: 'voter' }] },
      configIndex: 1000,
    };
    await forge(g, 'snapshotBegin', 'evil', g.follower, { term: stale, snapshot }, 'x1');
    const data = new TextEncoder().encode(JSON.stringify([['k', 'forged']]));
    await forge(g, 'snapshotChunk', 'evil', g.follower, { seq: 0, data, last: true }, 'x1');
    await waitFor(
      () => results.some((r) => (r as { k?: string }).k === 'snapshotResult'),
      5000,
      'the snapshot result',
    );
    const result = results.find((r) => (r as { k?: string }).k === 'snapshotResult') as {
      b: { ok: boolean; error?: { message: string } };
    };
    expect(result.b.ok).toBe(false);
    expect(result.b.error?.message).toMatch(/refused/);
    expect(dropsOf(g, g.follower).snapshotRefused).toBe(1);
    expect((await g.c.member(g.follower).storage.list()).map((r) => r.meta.index)).not.toContain(1000);
    await g.c.kill(g.follower);
    await g.c.startNode(g.follower);
    await unharmed(g);
  });

  it('open snapshot transfers are bounded per sender and in total; the extra ones are refused', async () => {
    const name = `sec${++counter}`;
    // A member whose node takes every transfer and reads nothing: what an attacker could hold open.
    const victim = new MqttTransport({ localId: 'victim', url: broker.url, cluster: name });
    const offered: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    await victim.start({
      onMessage: () => undefined,
      onSnapshot: async (request) => {
        offered.push(request.from);
        await held;
      },
      onForward: async () => ({ ok: true, index: 0 }),
    });
    try {
      attacker = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
      const results: Array<{ t: string; b: { ok: boolean; error?: { message: string } } }> = [];
      await attacker.subscribeAsync(`mqtt-raft/${name}/node/+/reply`, { qos: 1 });
      attacker.on('message', (_topic, payload) =>
        results.push(msgpackDecode(new Uint8Array(payload)) as never),
      );
      const g = { name } as Group;
      const snapshot = {
        index: 5,
        term: 1,
        config: { servers: [{ id: 'x', suffrage: 'voter' }] },
        configIndex: 1,
      };
      const senders = [
        ...Array.from({ length: 10 }, () => 'x'),
        ...Array.from({ length: 10 }, (_, i) => `s${i}`),
      ];
      for (const [i, from] of senders.entries())
        await forge(g, 'snapshotBegin', from, 'victim', { term: 1, snapshot }, `t${i}`);
      await waitFor(() => results.length >= 12, 5000, 'twelve refusals');
      // Two from x (the per-sender bound), then six others up to the total of eight.
      expect(offered).toEqual(['x', 'x', 's0', 's1', 's2', 's3', 's4', 's5']);
      expect(victim.stats.droppedReasons.tooManyTransfers).toBe(12);
      expect(results.every((r) => !r.b.ok && /snapshot transfers/.test(r.b.error?.message ?? ''))).toBe(true);
    } finally {
      release();
      await victim.close();
    }
  });
});
