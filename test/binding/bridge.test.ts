import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { isRaftError } from '../../src/index.js';
import { BindingGroup, set, textState } from '../support/binding-group.js';
import { Mosquitto } from '../support/mosquitto.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

/**
 * A group split over two mosquitto brokers joined by a mosquitto bridge, as an edge site's broker
 * bridged to a central one: a and b on broker A, c on broker B. B's bridge reaches A through a TCP
 * relay, so that the test can cut the link between the brokers while both brokers and all members
 * keep running.
 */

const ROOT = 'mqtt-raft';

let group: BindingGroup | null = null;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await group?.shutdown();
  group = null;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Broker B's bridge to A: the group's topics, both ways. */
function bridgeConfig(cluster: string, port: number): string[] {
  return [
    'connection to-a',
    `address 127.0.0.1:${port}`,
    'bridge_protocol_version mqttv311',
    // Every topic of the group (docs/protocol.md, "Topics"), both ways, at QoS 1 as the transport
    // publishes and subscribes: QoS 0 on the bridge would downgrade what crosses it.
    `topic ${ROOT}/${cluster}/# both 1`,
    // Broker A drops the bridge's subscription and queued messages when the link drops; the
    // bridge subscribes afresh on every reconnect.
    'cleansession true',
    // Marks the bridge to A (a mosquitto), which then does not send B's own messages back: no loop.
    'try_private true',
    // Reconnect one second after a failure, rather than backing off to 30 s.
    'restart_timeout 1',
    'notifications false',
  ];
}

/** Waits until a message published on A under the group's prefix reaches a subscriber on B. */
async function bridgeCarries(urlA: string, urlB: string, cluster: string): Promise<void> {
  const topic = `${ROOT}/${cluster}/probe`;
  const clients: MqttClient[] = [];
  try {
    const publisher = await connectAsync(urlA, { protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(publisher);
    const subscriber = await connectAsync(urlB, { protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(subscriber);
    let arrived = false;
    subscriber.on('message', () => {
      arrived = true;
    });
    await subscriber.subscribeAsync(topic, { qos: 1 });
    // Published again on every poll: the bridge may subscribe on A only after a first publish.
    await waitFor(
      async () => {
        await publisher.publishAsync(topic, 'probe', { qos: 1 });
        return arrived;
      },
      10_000,
      'the bridge to carry a message from A to B',
    );
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
  }
}

function expectedState(n: number, extra: Record<string, string>): Record<string, string> {
  return { ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])), ...extra };
}

describe('a group over two bridged mosquitto brokers', () => {
  it('commits from every member, keeps the majority going while the bridge is cut, and catches c up after', async () => {
    group = await BindingGroup.create('mosquitto');
    const g = group;
    const proxy = await TcpProxy.start(g.broker.port);
    cleanups.push(() => proxy.close());
    const brokerB = await Mosquitto.start({ extraConfig: bridgeConfig(g.cluster, proxy.port) });
    cleanups.push(() => brokerB.close());
    onTestFailed(() => console.error(`broker B (bridge) log:\n${brokerB.log()}`));
    await bridgeCarries(g.broker.url, brokerB.url, g.cluster);

    // a and b on A, c on B (its join crosses the bridge).
    await g.open('a', { bootstrap: true });
    await g.open('b');
    const c = await g.open('c', { rpcTimeout: 2000 }, brokerB.url);
    await g.leader();
    for (const [i, id] of ['a', 'b', 'c', 'a', 'b', 'c'].entries())
      await g.member(id).proposeInput(set(`k${i}`, `v${i}`));
    await g.converge(expectedState(6, {}));

    // Cut: the majority (a, b) keeps committing; c can neither commit nor read linearizably.
    proxy.cut();
    for (const [i, id] of ['a', 'b', 'a', 'b'].entries())
      await g.member(id).proposeInput(set(`k${6 + i}`, `v${6 + i}`), { timeoutMs: 10_000 });
    const write = await c.proposeInput(set('cut', 'from-c'), { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isRaftError(write), JSON.stringify(write)).toBe(true);
    const read = await c.getState({ consistency: 'linearizable' }).catch((e: unknown) => e);
    expect(isRaftError(read), JSON.stringify(read)).toBe(true);
    const majorityOnly = ['k6', 'k7', 'k8', 'k9'];
    expect(textState(await c.getState()).filter(([k]) => majorityOnly.includes(k))).toEqual([]);

    // Heal: the bridge reconnects by itself; c catches up and commits again.
    proxy.heal();
    await c.proposeInput(set('healed', 'from-c'), { timeoutMs: 15_000 });
    await g.member('a').proposeInput(set('last', 'from-a'));
    await waitFor(
      async () => {
        const states = await Promise.all(
          ['a', 'b', 'c'].map(async (id) => textState(await g.member(id).getState())),
        );
        return states.every(
          (s) => s.some(([k]) => k === 'last') && JSON.stringify(s) === JSON.stringify(states[0]),
        );
      },
      15_000,
      'a, b and c to hold the same state, with the last write',
    );
    // The write c attempted during the cut had an unknown outcome: it may be in the state or not,
    // but the same on every member (checked above). Everything else is exactly known.
    const final = new Map(textState(await c.getState()));
    final.delete('cut');
    expect(Object.fromEntries(final)).toEqual(expectedState(10, { healed: 'from-c', last: 'from-a' }));
  }, 60_000);
});
