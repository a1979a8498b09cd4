import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type ForwardRequest, MqttTransport } from '../../src/index.js';
import { FAST, NodeCluster } from '../support/node-cluster.js';
import { BROKER_KINDS, startTestBroker, useBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
let cluster: NodeCluster | null = null;
let clusterName = 0;

afterEach(async () => {
  await cluster?.shutdown();
  cluster = null;
});

/** A group over the broker at `url`, in a cluster namespace of its own. */
async function mqttCluster(
  url: string,
  ids: string[],
  config = FAST,
): Promise<{ c: NodeCluster; name: string; transport: (id: string) => MqttTransport }> {
  const name = `it-${++clusterName}`;
  cluster = await NodeCluster.start(
    ids,
    'level',
    config,
    (id) => new MqttTransport({ localId: id, url, cluster: name }),
  );
  const c = cluster;
  return { c, name, transport: (id) => c.member(id).transport as MqttTransport };
}

describe.each(BROKER_KINDS)('Raft over MQTT with RaftStore (%s)', (kind) => {
  const broker = useBroker(kind);

  it.each([3, 5])(
    '%i servers elect a leader, replicate, and survive the leader being killed',
    async (size) => {
      const ids = Array.from({ length: size }, (_, i) => `n${i + 1}`);
      const { c } = await mqttCluster(broker.url, ids);
      const first = await c.waitForLeader();
      await c.apply('before=1');
      await c.kill(first);
      const second = await c.waitForLeader();
      expect(second).not.toBe(first);
      await c.apply('during=1');
      await c.startNode(first);
      const { index } = await c.apply('after=1');
      await c.waitForConvergence(index);
      for (const id of ids) expect(c.member(id).fsm.state.get('during')).toBe('1');
    },
  );

  it('recovers from a broker restart without losing acknowledged writes', async () => {
    const own = await startTestBroker(kind);
    const name = `it-${++clusterName}`;
    cluster = await NodeCluster.start(
      ['a', 'b', 'c'],
      'level',
      FAST,
      (id) => new MqttTransport({ localId: id, url: own.url, cluster: name }),
    );
    const c = cluster;
    const acked: string[] = [];
    for (let i = 0; i < 10; i++) {
      await c.apply(`k${i}=${i}`);
      acked.push(`k${i}`);
    }
    await own.stop();
    await own.startAgain();
    try {
      for (let i = 10; i < 15; i++) {
        await c.apply(`k${i}=${i}`, 15_000);
        acked.push(`k${i}`);
      }
      const { index } = await c.apply('final=1', 15_000);
      await c.waitForConvergence(index, 10_000);
      for (const m of c.members.values()) for (const key of acked) expect(m.fsm.state.has(key)).toBe(true);
    } finally {
      await cluster.shutdown();
      cluster = null;
      await own.close();
    }
  });

  it('applies a duplicated forwarded request once', async () => {
    const { c, name } = await mqttCluster(broker.url, ['a', 'b', 'c']);
    const leader = await c.waitForLeader();
    const client = new MqttTransport({ localId: 'client', url: broker.url, cluster: name });
    await client.start({
      onMessage: () => undefined,
      onSnapshot: async () => undefined,
      onForward: async () => ({
        ok: false,
        error: { code: 'NOT_LEADER', message: 'a client', retryable: true, indefinite: false, leader: null },
      }),
    });
    try {
      const request: ForwardRequest = {
        kind: 'apply',
        origin: 'client',
        incarnation: 'i1',
        seq: 7,
        data: encoder.encode('dup=1'),
      };
      const answers = await Promise.all(
        [1, 2, 3].map(() => client.forward(leader, request, { timeoutMs: 5000 })),
      );
      expect(answers[0]).toMatchObject({ ok: true });
      for (const a of answers) expect(a).toEqual(answers[0]);
      const { index } = await c.apply('after=1');
      await c.waitForConvergence(index);
      const storage = c.member(leader).storage;
      const log = await storage.getLogs(await storage.firstIndex(), await storage.lastIndex());
      expect(log.filter((e) => new TextDecoder().decode(e.data) === 'dup=1')).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('drops and counts malformed messages published by a rogue client, and goes on', async () => {
    const { c, name, transport } = await mqttCluster(broker.url, ['a', 'b', 'c']);
    const ids = ['a', 'b', 'c'];
    await c.waitForLeader();
    const before = new Map(ids.map((id) => [id, { ...transport(id).stats.droppedReasons }]));
    const rogue = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    try {
      for (const id of ids) {
        for (const suffix of ['in', 'reply']) {
          const topic = `mqtt-raft/${name}/node/${id}/${suffix}`;
          // Not one MessagePack value; a map whose `v` is 99; an empty payload.
          await rogue.publishAsync(topic, Buffer.from('not msgpack at all'), { qos: 1 });
          await rogue.publishAsync(topic, Buffer.from([0x82, 0xa1, 0x76, 0x63, 0xa1, 0x6b, 0x01]), {
            qos: 1,
          });
          await rogue.publishAsync(topic, Buffer.alloc(0), { qos: 1 });
        }
      }
      await rogue.publishAsync(`mqtt-raft/${name}/broadcast`, Buffer.from([0xc1, 0xff, 0x00]), { qos: 1 });
      // Per member: on its inbox and reply topics 2 undecodable and 1 wrong version each, plus the
      // undecodable broadcast.
      const dropsOf = (id: string, reason: string) =>
        (transport(id).stats.droppedReasons[reason] ?? 0) - (before.get(id)?.[reason] ?? 0);
      await waitFor(
        () => ids.every((id) => dropsOf(id, 'undecodable') >= 5 && dropsOf(id, 'version') >= 2),
        5000,
        'every member to drop the rogue payloads',
      );
      const { index } = await c.apply('still=working');
      await c.waitForConvergence(index);
      for (const id of ids) {
        expect(dropsOf(id, 'undecodable')).toBe(5);
        expect(dropsOf(id, 'version')).toBe(2);
        expect(transport(id).stats.handlerErrors).toBe(0);
      }
    } finally {
      await rogue.endAsync();
    }
  });
});

// The slowest test of the file (20-30 s on a loaded 2-core machine): run once, on aedes. Chunked
// snapshots through mosquitto are covered by test/transport/mqtt-snapshot.test.ts and the
// transport conformance suite.
describe('Raft over MQTT with RaftStore: a large snapshot (aedes)', () => {
  const broker = useBroker('aedes');

  it('installs a 20 MB state on a new member in chunks; followers forward apply, addVoter and removeServer', async () => {
    const { c } = await mqttCluster(broker.url, ['a', 'b', 'c'], {
      ...FAST,
      snapshotThreshold: 10,
      trailingLogs: 2,
    });
    const leader = await c.waitForLeader();
    const follower = c.raft(['a', 'b', 'c'].find((id) => id !== leader) as string);
    await waitFor(() => follower.leader() === leader, 3000, 'the follower knows the leader');
    const mb = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 20; i++) await follower.apply(encoder.encode(`big${i}=${mb}`), { timeoutMs: 15_000 });
    await c.raft(leader).snapshot();
    const joiner = await c.addEmpty('d');
    await follower.addVoter('d', { timeoutMs: 30_000 });
    const isVoter = async (id: string) =>
      c
        .raft(await c.waitForLeader())
        .getConfiguration()
        .configuration.servers.some((s) => s.id === id && s.suffrage === 'voter');
    await waitFor(() => isVoter('d'), 30_000, 'd promoted after installing the snapshot');
    const { index } = await c.apply('joined=d', 15_000);
    await c.waitForConvergence(index, 30_000);
    expect(joiner.fsm.restores).toBeGreaterThan(0);
    expect(joiner.fsm.state.get('big19')?.length).toBe(mb.length);
    const now = await c.waitForLeader();
    const another = c.raft(['a', 'b', 'c'].find((id) => id !== now) as string);
    await another.removeServer('d', { timeoutMs: 15_000 });
    const members = c
      .raft(await c.waitForLeader())
      .getConfiguration()
      .configuration.servers.map((s) => s.id);
    expect(members).not.toContain('d');
  }, 60_000);
});
