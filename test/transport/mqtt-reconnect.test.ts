import { afterEach, describe, expect, it } from 'vitest';
import { startBroker } from '../../broker/index.js';
import { isRaftError, type RaftError } from '../../src/errors.js';
import { MqttTransport, type MqttTransportOptions } from '../../src/transport/index.js';
import type { ForwardResponse } from '../../src/transport/types.js';
import { heartbeat, patternBytes, snapshotRequest } from '../support/messages.js';
import { rejectionOf } from '../support/promises.js';
import { RecordingHandler, streamOf } from '../support/recording-handler.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { BROKER_KINDS, type BrokerKind, startTestBroker, type TestBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const WAIT_MS = 10_000;

const brokers: Array<{ close(): Promise<void> }> = [];
const open: MqttTransport[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
  await Promise.all(brokers.splice(0).map((b) => b.close()));
});

async function broker(kind: BrokerKind): Promise<TestBroker> {
  const started = await startTestBroker(kind);
  brokers.push(started);
  return started;
}

async function node(localId: string, url: string, extra: Partial<MqttTransportOptions> = {}) {
  const transport = new MqttTransport({
    localId,
    url,
    cluster: 'reconnect',
    reconnectPeriodMs: 100,
    closeGraceMs: 200,
    ...extra,
  });
  const handler = new RecordingHandler();
  open.push(transport);
  await transport.start(handler);
  return { transport, handler };
}

/** Nodes a and b, and a forward from a that b receives and never answers. */
async function unansweredForward(url: string) {
  const a = await node('a', url);
  const b = await node('b', url);
  b.handler.onForwardBehavior = () => new Promise<ForwardResponse>(() => undefined);
  const pending = a.transport.forward(
    'b',
    { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: 1 },
    { timeoutMs: 60_000 },
  );
  return { a, b, pending };
}

describe.each(BROKER_KINDS)('MqttTransport: connection loss (%s)', (kind) => {
  it('reconnects to a restarted broker, resubscribes and delivers again, and logs both', async () => {
    const first = await broker(kind);
    const logger = new RecordingLogger();
    const a = await node('a', first.url, { logger });
    const b = await node('b', first.url);
    a.transport.send(heartbeat('a', 'b', 1));
    await waitFor(() => b.handler.messages.length === 1, WAIT_MS, 'delivery before the restart');

    await first.stop();
    await waitFor(() => !a.transport.connected && !b.transport.connected, WAIT_MS, 'both to notice');
    // Sending while disconnected neither throws nor queues stale messages.
    expect(() => a.transport.send(heartbeat('a', 'b', 2))).not.toThrow();
    expect(a.transport.stats.droppedReasons.notConnected).toBe(1);

    await first.startAgain();
    await waitFor(
      () => a.transport.connected && b.transport.connected,
      WAIT_MS,
      'both to reconnect and resubscribe',
    );
    expect(a.transport.stats.reconnects).toBe(1);
    expect(b.transport.stats.reconnects).toBe(1);
    expect(logger.find('warn', /^MQTT connection lost; reconnecting$/).map((l) => l.details)).toEqual([
      { localId: 'a', url: first.url },
    ]);
    expect(logger.find('info', /^MQTT reconnected and resubscribed$/)).toHaveLength(1);

    a.transport.send(heartbeat('a', 'b', 3));
    b.transport.send(heartbeat('b', 'a', 4));
    await waitFor(
      () => b.handler.messages.length === 2 && a.handler.messages.length === 1,
      WAIT_MS,
      'delivery after the restart',
    );
    expect(b.handler.messages.map((m) => (m.type === 'heartbeatRequest' ? m.commit : -1))).toEqual([1, 3]);
    b.handler.onForwardBehavior = async () => ({ ok: true, index: 9 });
    await expect(
      a.transport.forward(
        'b',
        { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: 1 },
        { timeoutMs: WAIT_MS },
      ),
    ).resolves.toEqual({ ok: true, index: 9 });
  });

  it('fails a forward in flight at once, indefinitely, when the broker goes away', async () => {
    const only = await broker(kind);
    const { a, b, pending } = await unansweredForward(only.url);
    await waitFor(() => b.handler.forwards.length === 1, WAIT_MS, 'b to get the request');
    // Observed before the stop: mosquitto's connection drops while stop() still waits for its exit.
    const failed = rejectionOf(pending);
    await only.stop();
    const err = await failed;
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    expect((err as RaftError).indefinite).toBe(true);
    // While disconnected a new call fails at once, and definitely: nothing was sent.
    await waitFor(() => !a.transport.connected, WAIT_MS, 'a to notice');
    const later = await rejectionOf(
      a.transport.forward(
        'b',
        { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: 2 },
        { timeoutMs: 60_000 },
      ),
    );
    expect(isRaftError(later, 'UNREACHABLE')).toBe(true);
    expect((later as RaftError).indefinite).toBe(false);
  });

  it('fails a snapshot transfer in flight on both ends when the broker goes away', async () => {
    const only = await broker(kind);
    // Small chunks: the first one goes out although the source then stalls.
    const a = await node('a', only.url, { snapshotChunkBytes: 500 });
    const b = await node('b', only.url);
    let streamError: unknown = null;
    let chunksRead = 0;
    b.handler.onSnapshotBehavior = async (_request, chunks) => {
      try {
        for await (const _ of chunks) chunksRead++;
      } catch (err) {
        streamError = err;
        throw err;
      }
    };
    // A source that stalls after its first chunk, so the transfer is still running when the broker dies.
    async function* stalling() {
      yield patternBytes(0, 1000);
      await new Promise(() => undefined);
    }
    const sending = rejectionOf(a.transport.sendSnapshot(snapshotRequest('a', 'b'), stalling()));
    await waitFor(() => chunksRead === 1, WAIT_MS, 'b to read the first chunk');
    await only.stop();
    const err = await sending;
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    expect((err as RaftError).indefinite).toBe(true);
    await waitFor(() => streamError !== null, WAIT_MS, "b's stream to fail");
    expect(isRaftError(streamError, 'UNREACHABLE')).toBe(true);
  });

  it('rejects start with UNREACHABLE when no broker answers in time, and can start later', async () => {
    const gone = await broker(kind);
    const port = gone.port;
    await gone.stop();
    const transport = new MqttTransport({
      localId: 'a',
      url: `mqtt://127.0.0.1:${port}`,
      connectTimeoutMs: 300,
      reconnectPeriodMs: 50,
      closeGraceMs: 100,
    });
    open.push(transport);
    const err = await rejectionOf(transport.start(new RecordingHandler()));
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    expect(transport.connected).toBe(false);
    await gone.startAgain();
    await transport.start(new RecordingHandler());
    expect(transport.connected).toBe(true);
  });

  it('fails RPCs in flight with SHUTDOWN on close, and close is idempotent', async () => {
    const only = await broker(kind);
    const { a, b, pending } = await unansweredForward(only.url);
    b.handler.onSnapshotBehavior = () => new Promise<void>(() => undefined);
    const snapshot = a.transport.sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10)));
    await waitFor(() => b.handler.forwards.length === 1, WAIT_MS, 'b to get the request');
    const outcomes = Promise.all([rejectionOf(pending), rejectionOf(snapshot)]);
    await Promise.all([a.transport.close(), a.transport.close()]);
    const [forwardErr, snapshotErr] = await outcomes;
    expect(isRaftError(forwardErr, 'SHUTDOWN')).toBe(true);
    expect(isRaftError(snapshotErr, 'SHUTDOWN')).toBe(true);
    await expect(a.transport.close()).resolves.toBeUndefined();
    expect(isRaftError(await rejectionOf(a.transport.start(new RecordingHandler())), 'SHUTDOWN')).toBe(true);
  });
});

// mosquitto would need a password file; the transport's handling of a refusal does not depend on the broker.
describe('MqttTransport: refused credentials (aedes)', () => {
  it('rejects start with UNREACHABLE when the broker refuses the credentials', async () => {
    const guarded = await startBroker({ host: '127.0.0.1', port: 0, auth: { username: 'u', password: 'p' } });
    brokers.push(guarded);
    const wrong = new MqttTransport({
      localId: 'a',
      url: guarded.url,
      username: 'u',
      password: 'x',
      closeGraceMs: 100,
    });
    open.push(wrong);
    const started = Date.now();
    const err = await rejectionOf(wrong.start(new RecordingHandler()));
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    // Refused at once, not after the 10 s connect timeout.
    expect(Date.now() - started).toBeLessThan(5000);
    const right = new MqttTransport({
      localId: 'b',
      url: guarded.url,
      username: 'u',
      password: 'p',
      closeGraceMs: 100,
    });
    open.push(right);
    await right.start(new RecordingHandler());
    expect(right.connected).toBe(true);
  });
});
