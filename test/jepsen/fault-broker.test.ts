import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { msgpackEncode } from '../../src/msgpack.js';
import { clientIdOf } from '../../src/transport/mqtt-topics.js';
import { connectMqtt } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';
import { FaultBroker } from './fault-broker.js';

const CLUSTER = 'fb';
const TOPIC = 'mqtt-raft/fb/broadcast';

/** A raw MQTT client that looks like member `id`'s transport, recording what it receives. */
async function member(
  clients: MqttClient[],
  url: string,
  id: string,
): Promise<{ got: string[]; send(body: string): void }> {
  const client = await connectMqtt(clients, url, { clientId: clientIdOf(CLUSTER, id, '0123456789ab') }, 5000);
  const got: string[] = [];
  client.on('message', (_topic, payload) => {
    const text = payload.toString('latin1');
    got.push(text.slice(text.indexOf('body:') + 5));
  });
  await client.subscribeAsync(TOPIC, { qos: 1 });
  return {
    got,
    send: (body) =>
      client.publish(TOPIC, Buffer.from(msgpackEncode({ f: id, b: `body:${body}` })), { qos: 1 }),
  };
}

describe('FaultBroker', () => {
  const clients: MqttClient[] = [];
  let broker: FaultBroker | null = null;
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    await broker?.close();
  });

  it('maps client ids to members and cuts, heals and bridges links per direction', async () => {
    broker = await FaultBroker.start(CLUSTER, 1);
    expect(broker.memberOf(clientIdOf(CLUSTER, 'n-1', 'abcdefabcdef'))).toBe('n-1');
    expect(broker.memberOf('someone-else')).toBeNull();
    const [a, b, c] = [
      await member(clients, broker.url, 'a'),
      await member(clients, broker.url, 'b'),
      await member(clients, broker.url, 'c'),
    ] as const;
    broker.block('a', 'b');
    a.send('one-way');
    await waitFor(() => c.got.includes('one-way') && broker?.stats.blocked === 1, 5000, 'c to get it, b not');
    expect(b.got).not.toContain('one-way');
    b.send('back');
    await waitFor(() => a.got.includes('back'), 5000, 'the other direction to work');

    broker.heal();
    broker.bridge(['a', 'b'], ['b', 'c'], 'b');
    a.send('bridged');
    await waitFor(() => b.got.includes('bridged') && broker?.stats.blocked === 2, 5000, 'b only');
    expect(c.got).not.toContain('bridged');
  });

  it('duplicates, delays and drops per link, and kicks a member', async () => {
    broker = await FaultBroker.start(CLUSTER, 2);
    const a = await member(clients, broker.url, 'a');
    const b = await member(clients, broker.url, 'b');
    broker.setRule('a', 'b', { duplicate: 1 });
    a.send('twice');
    await waitFor(() => b.got.filter((x) => x === 'twice').length === 2, 5000, 'two copies');
    broker.setRule('a', 'b', { delayMs: 20, jitterMs: 30 });
    for (let i = 0; i < 10; i++) a.send(`d${i}`);
    await waitFor(() => b.got.filter((x) => x.startsWith('d')).length === 10, 5000, 'every delayed copy');
    expect(broker.stats.delayed).toBe(10);
    broker.heal();
    broker.setRule('*', '*', { drop: 1 });
    a.send('lost');
    await waitFor(() => broker?.stats.dropped === 1, 5000, 'the drop');
    expect(b.got).not.toContain('lost');

    expect(broker.connectedMembers().sort()).toEqual(['a', 'b']);
    const closed = new Promise((resolve) => clients[0]?.once('close', () => resolve(null)));
    expect(broker.kick('a')).toBe(1);
    await closed;
  });

  it('restarts on the same port', async () => {
    broker = await FaultBroker.start(CLUSTER, 3);
    const url = broker.url;
    await broker.stop();
    expect(broker.up).toBe(false);
    await broker.startAgain();
    expect(broker.url).toBe(url);
    const a = await member(clients, url, 'a');
    const b = await member(clients, url, 'b');
    a.send('after');
    await waitFor(() => b.got.includes('after'), 5000, 'delivery after the restart');
  });
});
