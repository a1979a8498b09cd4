/** Group ids on the wire (docs/protocol.md §3, §7): envelopes of another group are dropped and reported. */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { MqttTransport } from '../../src/transport/index.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { closedAfterEach, useBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const broker = useBroker();
const open = closedAfterEach<MqttTransport>();
let clusters = 0;

async function member(cluster: string, localId: string, group: string, logger = new RecordingLogger()) {
  const transport = new MqttTransport({
    localId,
    url: broker.url,
    cluster,
    group,
    closeGraceMs: 200,
    logger,
  });
  const handler = new RecordingHandler();
  open.push(transport);
  await transport.start(handler);
  return { transport, handler };
}

const heartbeat = (from: string, to: string, commit: number): Message => ({
  type: 'heartbeatRequest',
  from,
  to,
  term: 1,
  commit,
  context: 0,
});

describe('MqttTransport: group ids', () => {
  it('drops, counts and reports (once per interval) messages of another group', async () => {
    const cluster = `group-${++clusters}`;
    const logger = new RecordingLogger();
    const a = await member(cluster, 'a', 'g1', logger);
    const b = await member(cluster, 'b', 'g1');
    const e = await member(cluster, 'e', 'g2');
    for (let i = 1; i <= 3; i++) {
      e.transport.send(heartbeat('e', 'a', i));
      // One envelope per turn: sent in one turn, the three would go as one batch, one drop.
      await new Promise((resolve) => setImmediate(resolve));
    }
    b.transport.send(heartbeat('b', 'a', 7));
    await waitFor(
      () => a.handler.messages.length === 1 && a.transport.stats.foreignGroup === 3,
      5000,
      'a to take b and drop e',
    );
    expect(a.handler.messages[0]).toMatchObject({ from: 'b', commit: 7 });
    expect(a.transport.stats.droppedReasons.wrongGroup).toBe(3);
    const reports = logger.find('error', /second group/);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.message).toMatch(/e belongs to group g2/);
  });

  it('a probe finds the live members and their groups, whatever group the prober has', async () => {
    const cluster = `group-${++clusters}`;
    await member(cluster, 'a', 'g1');
    await member(cluster, 'e', 'g2');
    const found = await MqttTransport.probeCluster({ localId: 'j', url: broker.url, cluster }, 300);
    expect(found.duplicate).toBe(false);
    expect([...found.live].sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual([
      { id: 'a', group: 'g1' },
      { id: 'e', group: 'g2' },
    ]);
    const twin = await MqttTransport.probeCluster({ localId: 'a', url: broker.url, cluster }, 300);
    expect(twin.duplicate).toBe(true);
  });

  it('a probe through a distant link waits for answers as long as the broker takes to echo it', async () => {
    const cluster = `group-${++clusters}`;
    await member(cluster, 'a', 'g1');
    // 40 ms each way: the probe's echo and a's answer come back after about 80 ms, well past the
    // 30 ms asked for, which the echo stretches to four round trips.
    const proxy = await TcpProxy.start(broker.port, { delayMs: 40 });
    try {
      const url = `mqtt://127.0.0.1:${proxy.port}`;
      const found = await MqttTransport.probeCluster({ localId: 'j', url, cluster }, 30);
      expect(found.live).toEqual([{ id: 'a', group: 'g1' }]);
    } finally {
      await proxy.close();
    }
  });
});
