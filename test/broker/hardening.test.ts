import { connect as connectTcp } from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrokerOptions, type RunningBroker, startBroker } from '../../broker/index.js';
import { DEFAULT_MAX_PACKET_SIZE } from '../../broker/options.js';
import { PacketSizeGuard } from '../../broker/packet-guard.js';
import { isRaftError } from '../../src/errors.js';
import { MqttTransport } from '../../src/transport/index.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../src/transport/mqtt-options.js';
import { rejectionOf } from '../support/promises.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { connectMqtt } from '../support/test-broker.js';
import { makeTestPki, type TestPki } from '../support/tls.js';

const DEADLINE_MS = 5_000;
const brokers: RunningBroker[] = [];
const clients: MqttClient[] = [];
let pki: TestPki;

beforeAll(async () => {
  pki = await makeTestPki();
});
afterAll(async () => {
  await pki.remove();
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  await Promise.all(brokers.splice(0).map((broker) => broker.close()));
});

async function start(options: BrokerOptions = {}): Promise<RunningBroker> {
  const broker = await startBroker({ host: '127.0.0.1', port: 0, ...options });
  brokers.push(broker);
  return broker;
}

function client(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connectMqtt(clients, url, options, DEADLINE_MS);
}

/** Subscribes and publishes one message to itself over `c`, proving the connection carries MQTT. */
async function roundTrip(c: MqttClient, topic = 'app/echo'): Promise<void> {
  const got = new Promise<string>((resolve) =>
    c.once('message', (_t, payload) => resolve(payload.toString())),
  );
  await c.subscribeAsync(topic, { qos: 1 });
  await c.publishAsync(topic, 'ping', { qos: 1 });
  expect(await got).toBe('ping');
}

/** The QoS granted for one filter: 128 means refused (mqtt.js rejects with the SUBACK then). */
async function granted(c: MqttClient, filter: string): Promise<number | undefined> {
  try {
    const result = await c.subscribeAsync(filter, { qos: 1 });
    return result[0]?.qos;
  } catch (err) {
    const suback = (err as { packet?: { granted?: number[] } }).packet;
    if (suback?.granted === undefined) throw err;
    return suback.granted[0];
  }
}

function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) =>
    c.disconnected || !c.connected ? resolve() : c.once('close', () => resolve()),
  );
}

describe('TLS and WebSocket listeners', () => {
  const tls = () => ({ key: pki.serverKey, cert: pki.serverCert });

  it('serves mqtts, ws and wss beside plain mqtt, each on its own port (through the size guard)', async () => {
    const broker = await start({ tls: tls(), tlsPort: 0, wsPort: 0, wssPort: 0, maxPacketSize: 100_000 });
    const { mqtts, ws, wss } = broker.urls;
    expect(mqtts).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(wss).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    await roundTrip(await client(mqtts as string, { ca: pki.ca }));
    await roundTrip(await client(ws as string));
    await roundTrip(await client(wss as string, { ca: pki.ca }));
    expect(broker.clients()).toBe(3);
  });

  it('a client that does not trust the CA fails with a tls cause, at once', async () => {
    const broker = await start({ tls: tls(), tlsPort: 0 });
    const transport = new MqttTransport({
      localId: 'a',
      url: broker.urls.mqtts as string,
      tls: { ca: pki.otherCa },
      connectTimeoutMs: 30_000,
    });
    const err = await rejectionOf(transport.start(new RecordingHandler()));
    await transport.close();
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    expect((err as Error).message).toMatch(
      /: tls: TLS handshake failed: .*\(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_/,
    );
  });

  it('plain mqtt:// against the TLS and WebSocket ports fails with a protocol cause', async () => {
    const broker = await start({ tls: tls(), tlsPort: 0, wsPort: 0 });
    for (const kind of ['mqtts', 'ws'] as const) {
      const port = new URL(broker.urls[kind] as string).port;
      const transport = new MqttTransport({
        localId: 'a',
        url: `mqtt://127.0.0.1:${port}`,
        connectTimeoutMs: 30_000,
      });
      const err = await rejectionOf(transport.start(new RecordingHandler()));
      await transport.close();
      expect((err as Error).message, kind).toMatch(/: protocol: /);
    }
  });

  it('with requireClientCert, refuses a TLS client without a certificate and accepts one with', async () => {
    const broker = await start({ tls: { ...tls(), ca: pki.ca, requireClientCert: true }, tlsPort: 0 });
    const url = broker.urls.mqtts as string;
    await expect(client(url, { ca: pki.ca })).rejects.toThrow();
    await roundTrip(await client(url, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }));
  });

  it('refuses TLS ports without a certificate, naming the field', async () => {
    const err = await rejectionOf(startBroker({ port: 0, tlsPort: 0 }));
    expect(isRaftError(err, 'INVALID_CONFIG')).toBe(true);
    expect((err as Error).message).toMatch(/^tls: /);
  });
});

describe('credentials table', () => {
  it('accepts each user with its own password only', async () => {
    const broker = await start({ users: { a: 'pa', b: 'pb' } });
    await client(broker.url, { username: 'a', password: 'pa' });
    await client(broker.url, { username: 'b', password: 'pb' });
    for (const wrong of [{ username: 'a', password: 'pb' }, { username: 'c', password: 'pa' }, {}]) {
      const err = await rejectionOf(client(broker.url, wrong));
      expect((err as { code?: unknown }).code, JSON.stringify(wrong)).toBe(4);
    }
  });
});

describe('default subscription and retain rules', () => {
  it('refuses #, +/… and $SYS filters, and retained publishes; other filters work', async () => {
    const broker = await start();
    const c = await client(broker.url);
    expect(await granted(c, '#')).toBe(128);
    expect(await granted(c, '+/default/broadcast')).toBe(128);
    expect(await granted(c, '$SYS/#')).toBe(128);
    expect(await granted(c, 'mqtt-raft/#')).toBe(1);
    const retainer = await client(broker.url);
    await retainer.publishAsync('mqtt-raft/x', 'forged', { qos: 0, retain: true }).catch(() => undefined);
    await closed(retainer);
    // The refused publisher was disconnected; a later subscriber gets no retained copy.
    const late = await client(broker.url);
    const received: string[] = [];
    late.on('message', (topic) => {
      if (topic === 'mqtt-raft/x') received.push(topic);
    });
    await late.subscribeAsync('mqtt-raft/x', { qos: 1 });
    await roundTrip(late, 'mqtt-raft/marker');
    expect(received).toEqual([]);
  });

  it('allowRootWildcards and allowRetain restore both', async () => {
    const broker = await start({ allowRootWildcards: true, allowRetain: true });
    const c = await client(broker.url);
    expect(await granted(c, '#')).toBe(1);
    await c.publishAsync('app/kept', 'v', { qos: 1, retain: true });
    const late = await client(broker.url);
    const got = new Promise<string>((resolve) => late.once('message', (t) => resolve(t)));
    await late.subscribeAsync('app/kept', { qos: 1 });
    expect(await got).toBe('app/kept');
  });
});

describe('ACL template', () => {
  const acl = [{ cluster: 'g', members: ['a', 'b'] }];
  const users = { a: 'pa', b: 'pb', outsider: 'po' };

  it('lets a member subscribe only to its own inboxes, the broadcast and the multicast topic', async () => {
    const broker = await start({ users, acl });
    const a = await client(broker.url, { username: 'a', password: 'pa' });
    expect(await granted(a, 'mqtt-raft/g/node/a/in')).toBe(1);
    expect(await granted(a, 'mqtt-raft/g/node/a/reply')).toBe(1);
    expect(await granted(a, 'mqtt-raft/g/broadcast')).toBe(1);
    expect(await granted(a, 'mqtt-raft/g/multicast')).toBe(1);
    expect(await granted(a, 'mqtt-raft/g/node/b/in')).toBe(128);
    expect(await granted(a, 'mqtt-raft/g/node/+/in')).toBe(128);
    expect(await granted(a, 'mqtt-raft/g/#')).toBe(128);
    expect(await granted(a, 'mqtt-raft/other/node/a/in')).toBe(128);
  });

  it('lets a member publish to inboxes, the broadcast and multicast topics, and disconnects one publishing elsewhere', async () => {
    const broker = await start({ users, acl });
    const b = await client(broker.url, { username: 'b', password: 'pb' });
    const inbox = new Promise<string>((resolve) => b.once('message', (_t, p) => resolve(p.toString())));
    await b.subscribeAsync('mqtt-raft/g/node/b/in', { qos: 1 });
    const a = await client(broker.url, { username: 'a', password: 'pa' });
    await a.publishAsync('mqtt-raft/g/node/b/in', 'from a', { qos: 1 });
    expect(await inbox).toBe('from a');
    await a.publishAsync('mqtt-raft/g/node/b/reply', 'answer', { qos: 1 });
    await a.publishAsync('mqtt-raft/g/broadcast', 'anyone?', { qos: 1 });
    await a.publishAsync('mqtt-raft/g/multicast', 'everyone', { qos: 1 });
    a.publish('mqtt-raft/g/elsewhere', 'x', { qos: 0 });
    await closed(a);
  });

  it('gives a user with valid credentials who is not a member nothing: no subscription, no publish', async () => {
    const broker = await start({ users, acl });
    const outsider = await client(broker.url, { username: 'outsider', password: 'po' });
    for (const filter of [
      'mqtt-raft/g/node/a/in',
      'mqtt-raft/g/broadcast',
      'mqtt-raft/g/multicast',
      'mqtt-raft/g/node/outsider/in',
    ]) {
      expect(await granted(outsider, filter), filter).toBe(128);
    }
    outsider.publish('mqtt-raft/g/node/a/in', 'forged', { qos: 0 });
    await closed(outsider);
  });

  it('refuses an ACL without a credentials table', async () => {
    const err = await rejectionOf(startBroker({ port: 0, acl }));
    expect((err as Error).message).toMatch(/^acl: needs users/);
  });
});

/**
 * Connects a raw socket, sends CONNECT (MQTT 3.1.1, client id "x") and a PUBLISH header announcing
 * a remaining length of `announced` bytes followed by only 3 of them, and resolves once the broker
 * closes the connection: it never sees the rest of the body, so it must judge from the header.
 */
async function closedAfterAnnouncing(broker: RunningBroker, announced: number): Promise<void> {
  const socket = connectTcp(broker.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  const connectPacket = Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 1, 0x78]);
  const varint: number[] = [];
  for (let rest = announced; ; rest = Math.floor(rest / 128)) {
    const low = rest % 128;
    if (rest < 128) {
      varint.push(low);
      break;
    }
    varint.push(low | 0x80);
  }
  socket.write(Buffer.concat([connectPacket, Buffer.from([0x30, ...varint, 0, 1, 0x74])]));
  await ended;
}

describe('packet size checked from the fixed header', () => {
  it('closes a connection whose PUBLISH header announces more than maxPacketSize, without waiting for the body', async () => {
    await closedAfterAnnouncing(await start({ maxPacketSize: 1_000 }), 10 * 1024 * 1024);
  });

  it('by default refuses a 100 MiB PUBLISH, and one byte more than the largest a member sends, from the header', async () => {
    const broker = await start();
    await closedAfterAnnouncing(broker, 100 * 1024 * 1024);
    // A remaining length of n makes a packet of 1 + 4 + n bytes at this size (4 length bytes).
    await closedAfterAnnouncing(broker, DEFAULT_MAX_PACKET_SIZE - 5 + 1);
  });

  it('by default forwards a PUBLISH of the largest payload a member sends, on the longest topic', async () => {
    const broker = await start();
    const c = await client(broker.url);
    const euro = '\u{20ac}'.repeat(256);
    const longest = `${euro}/${euro}/node/${euro}/reply`;
    const payload = Buffer.alloc(DEFAULT_MAX_MESSAGE_BYTES, 7);
    const got = new Promise<number>((resolve) => c.once('message', (_t, p) => resolve(p.length)));
    await c.subscribeAsync(longest, { qos: 1 });
    await c.publishAsync(longest, payload, { qos: 1 });
    expect(await got).toBe(DEFAULT_MAX_MESSAGE_BYTES);
  });

  it('the guard follows packet boundaries across chunks, split anywhere', async () => {
    const small = Buffer.from([0x30, 0x83, 0x01, ...Buffer.alloc(131)]); // 3 + 131 bytes
    const large = Buffer.from([0x30, 0xff, 0x7f]); // announces 16,383 body bytes
    const stream = Buffer.concat([small, small, large, Buffer.alloc(50, 1)]);
    for (let cut = 1; cut < stream.length; cut++) {
      const guard = new PacketSizeGuard(200);
      const errors: Error[] = [];
      const passed: Buffer[] = [];
      guard.on('error', (e) => errors.push(e));
      guard.on('data', (chunk: Buffer) => passed.push(chunk));
      guard.write(stream.subarray(0, cut));
      guard.write(stream.subarray(cut));
      await new Promise<void>((resolve) => setImmediate(resolve));
      expect(
        errors.map((e) => e.message),
        `cut ${cut}`,
      ).toEqual(['packet of 16386 bytes exceeds maxPacketSize 200']);
      // No byte of the oversized packet's body is passed on, only (part of) its fixed header.
      expect(Buffer.concat(passed).length, `cut ${cut}`).toBeLessThanOrEqual(small.length * 2 + large.length);
    }
  });
});
