import { connect as connectTcp, Socket } from 'node:net';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BrokerOptions, configureSocket, type RunningBroker, startBroker } from '../../broker/index.js';
import { isRaftError, type RaftError } from '../../src/errors.js';
import { rejectionOf } from '../support/promises.js';
import { connectMqtt } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const HOST = '127.0.0.1';
const DEADLINE_MS = 5_000;

const brokers: RunningBroker[] = [];
const clients: MqttClient[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  await Promise.all(brokers.splice(0).map((broker) => broker.close()));
});

/** Starts a broker on a free port and registers it for cleanup. */
async function start(options: BrokerOptions = {}): Promise<RunningBroker> {
  const broker = await startBroker({ host: HOST, port: 0, ...options });
  brokers.push(broker);
  return broker;
}

/**
 * Connects an MQTT 3.1.1 client without reconnecting, so a refusal or a disconnect stays visible.
 * Resolves on CONNACK 0; rejects with mqtt.js's error (its `code` is the CONNACK return code).
 */
function connectClient(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return connectMqtt(clients, url, options, DEADLINE_MS);
}

/** Collects `topic: payload` strings received by `client`. */
function collect(client: MqttClient): string[] {
  const received: string[] = [];
  client.on('message', (topic, payload) => received.push(`${topic}: ${payload.toString()}`));
  return received;
}

function returnCodeOf(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

describe('startBroker', () => {
  it('listens on the port the OS chose for port 0 and reports it in the url', async () => {
    const broker = await start();
    expect(broker.port).toBeGreaterThan(0);
    expect(broker.host).toBe(HOST);
    expect(broker.url).toBe(`mqtt://${HOST}:${broker.port}`);
  });

  it('delivers a QoS 1 publish to a subscribed MQTT 3.1.1 client, including its own', async () => {
    const broker = await start();
    const client = await connectClient(broker.url);
    const received = collect(client);
    await client.subscribeAsync('raft/test', { qos: 1 });
    // publishAsync resolves on the PUBACK for QoS 1.
    await client.publishAsync('raft/test', 'hello', { qos: 1 });
    await waitFor(() => received.length === 1, DEADLINE_MS, 'the QoS 1 message');
    expect(received).toEqual(['raft/test: hello']);
  });

  it('counts connected clients', async () => {
    const broker = await start();
    expect(broker.clients()).toBe(0);
    const first = await connectClient(broker.url);
    await connectClient(broker.url);
    await waitFor(() => broker.clients() === 2, DEADLINE_MS, 'two clients counted');
    await first.endAsync();
    await waitFor(() => broker.clients() === 1, DEADLINE_MS, 'one client counted after a disconnect');
  });
});

describe('TCP_NODELAY', () => {
  it('configureSocket disables Nagle on the socket', () => {
    const setNoDelay = vi.fn();
    configureSocket({ setNoDelay });
    expect(setNoDelay).toHaveBeenCalledExactlyOnceWith(true);
  });

  it('is set on every connection the broker accepts', async () => {
    const spy = vi.spyOn(Socket.prototype, 'setNoDelay');
    const broker = await start();
    await connectClient(broker.url);
    await connectClient(broker.url);
    // The server's side of a connection is the socket whose local port is the broker's.
    const serverSide = spy.mock.contexts
      .map((socket, i) => ({ socket, arg: spy.mock.calls[i]?.[0] }))
      .filter(({ socket }) => (socket as Socket).localPort === broker.port);
    expect(serverSide).toHaveLength(2);
    for (const { arg } of serverSide) expect(arg).toBe(true);
  });
});

describe('authentication', () => {
  const auth = { username: 'raft', password: 's3cret' };

  it.each<[string, IClientOptions]>([
    ['no credentials', {}],
    ['a wrong password', { username: 'raft', password: 'wrong' }],
    ['a wrong username', { username: 'other', password: 's3cret' }],
    ['a username only', { username: 'raft' }],
    ['a password differing only in length', { username: 'raft', password: 's3cret!' }],
  ])('refuses %s with "bad username or password"', async (_, credentials) => {
    const broker = await start({ auth });
    const err = await rejectionOf(connectClient(broker.url, credentials));
    expect(returnCodeOf(err)).toBe(4);
    expect(broker.clients()).toBe(0);
  });

  it('accepts the configured credentials', async () => {
    const broker = await start({ auth });
    const client = await connectClient(broker.url, auth);
    expect(client.connected).toBe(true);
    expect(broker.clients()).toBe(1);
  });

  it('accepts anyone when auth is not set', async () => {
    const broker = await start();
    await connectClient(broker.url, { username: 'anyone', password: 'anything' });
    expect(broker.clients()).toBe(1);
  });
});

describe('publish limits', () => {
  it('forwards PUBLISH packets up to maxPacketSize and disconnects a client that sends a larger one', async () => {
    const broker = await start({ maxPacketSize: 1_000 });
    const subscriber = await connectClient(broker.url);
    const received = collect(subscriber);
    await subscriber.subscribeAsync('raft/#', { qos: 1 });

    const publisher = await connectClient(broker.url);
    let publisherClosed = false;
    publisher.on('close', () => {
      publisherClosed = true;
    });
    // 1 + 2 (remaining length) + 2 + 8 (topic) + 2 (packet id) + 985 = exactly 1,000 bytes.
    await publisher.publishAsync('raft/big', 'x'.repeat(985), { qos: 1 });
    await waitFor(() => received.length === 1, DEADLINE_MS, 'the publish at the limit');
    // QoS 0 has no packet id: 1 + 2 + 2 + 8 + 988 = 1,001 bytes.
    publisher.publish('raft/big', 'x'.repeat(988), { qos: 0 });
    await waitFor(() => publisherClosed, DEADLINE_MS, 'the oversized publisher to be disconnected');

    // A later publish from someone else arrives, and the oversized one never did.
    const other = await connectClient(broker.url);
    await other.publishAsync('raft/after', 'ok', { qos: 1 });
    await waitFor(() => received.length === 2, DEADLINE_MS, 'the publish after the refused one');
    expect(received).toEqual([`raft/big: ${'x'.repeat(985)}`, 'raft/after: ok']);
  });

  it('keeps refusing client publishes to $SYS/ topics', async () => {
    const broker = await start();
    const client = await connectClient(broker.url);
    let closed = false;
    client.on('close', () => {
      closed = true;
    });
    client.publish('$SYS/forged', 'x', { qos: 0 });
    await waitFor(() => closed, DEADLINE_MS, 'the $SYS publisher to be disconnected');
  });
});

describe('errors', () => {
  it('rejects with a retryable UNREACHABLE naming the address when the port is in use', async () => {
    const first = await start();
    const err = await rejectionOf(startBroker({ host: HOST, port: first.port }));
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    const raftError = err as RaftError;
    expect(raftError.message).toContain(`${HOST}:${first.port}`);
    expect(raftError.retryable).toBe(true);
    expect((raftError.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
  });

  it.each<[string, unknown]>([
    ['port', { port: -1 }],
    ['port', { port: 65_536 }],
    ['port', { port: 1.5 }],
    ['port', { port: Number.NaN }],
    ['port', { port: '1883' }],
    ['host', { host: '' }],
    ['host', { host: 42 }],
    ['auth', { auth: 'raft:s3cret' }],
    ['auth.username', { auth: { username: '', password: 'p' } }],
    ['auth.password', { auth: { username: 'u', password: '' } }],
    ['auth.password', { auth: { username: 'u' } }],
    ['maxPacketSize', { maxPacketSize: 0 }],
    ['maxPacketSize', { maxPacketSize: 2 ** 30 }],
    ['options', null],
  ])('rejects invalid %s with INVALID_CONFIG', async (field, options) => {
    const err = await rejectionOf(startBroker(options as BrokerOptions));
    expect(isRaftError(err, 'INVALID_CONFIG')).toBe(true);
    expect((err as RaftError).message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
  });
});

describe('close', () => {
  it('disconnects clients, frees the port and is idempotent', async () => {
    const broker = await start();
    const client = await connectClient(broker.url);
    let clientClosed = false;
    client.on('close', () => {
      clientClosed = true;
    });

    const closing = broker.close();
    expect(broker.close()).toBe(closing);
    await closing;
    await broker.close();
    await waitFor(() => clientClosed, DEADLINE_MS, 'the client to be disconnected');
    expect(broker.clients()).toBe(0);

    const again = await start({ port: broker.port });
    expect(again.port).toBe(broker.port);
    await connectClient(again.url);
  });

  it('ends connections that never sent CONNECT instead of waiting for them', async () => {
    const broker = await start();
    const raw = connectTcp(broker.port, HOST);
    let rawClosed = false;
    raw.on('close', () => {
      rawClosed = true;
    });
    raw.on('error', () => {});
    await new Promise<void>((resolve) => raw.once('connect', () => resolve()));

    let closed = false;
    void broker.close().then(() => {
      closed = true;
    });
    await waitFor(() => closed, DEADLINE_MS, 'close() with a silent connection open');
    await waitFor(() => rawClosed, DEADLINE_MS, 'the silent connection to be ended');
  });
});
