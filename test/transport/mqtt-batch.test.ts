import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { msgpackDecode, msgpackEncode } from '../../src/msgpack.js';
import { MqttTransport } from '../../src/transport/index.js';
import {
  type BatchItem,
  type DecodeContext,
  type DecodeResult,
  decodeInbound,
  encodeBatch,
  MAX_BATCH_ITEMS,
} from '../../src/transport/mqtt-codec.js';
import { EnvelopeSeal } from '../../src/transport/mqtt-seal.js';
import { Topics } from '../../src/transport/mqtt-topics.js';
import type { ForwardRequest } from '../../src/transport/types.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { BROKER_KINDS, closedAfterEach, useBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const ctx: DecodeContext = { cluster: 'c1', localId: 'b', maxBytes: 1024 * 1024 };
const header = { f: 'a', t: 'b', c: 'c1' };

function heartbeatItem(commit: number): BatchItem {
  return { k: 'heartbeatRequest', id: '', body: msgpackEncode({ term: 2, commit, context: 0 }) };
}

/** What each envelope of a decoded batch became: a message's commit, or the refusal's reason. */
function outcomes(result: DecodeResult): Array<number | string> {
  if (!result.ok || result.inbound.kind !== 'batch')
    throw new Error(`not a batch: ${JSON.stringify(result)}`);
  return result.inbound.items.map((item) => {
    if (!item.ok) return item.reason;
    if (item.inbound.kind !== 'message' || item.inbound.message.type !== 'heartbeatRequest')
      return item.inbound.kind;
    return item.inbound.message.commit;
  });
}

describe('MQTT envelope codec: batches', () => {
  it('decodes each envelope of a batch, in order, as if it had come alone', () => {
    const items = [heartbeatItem(1), heartbeatItem(2), heartbeatItem(3)];
    const result = decodeInbound(encodeBatch(header, items), 'inbox', ctx);
    expect(outcomes(result)).toEqual([1, 2, 3]);
    if (!result.ok || result.inbound.kind !== 'batch') throw new Error('not a batch');
    const [first] = result.inbound.items;
    expect(first).toEqual({
      ok: true,
      inbound: {
        kind: 'message',
        message: { type: 'heartbeatRequest', from: 'a', to: 'b', term: 2, commit: 1, context: 0 },
      },
    });
  });

  it('refuses a bad envelope alone and keeps its neighbours', () => {
    const items: BatchItem[] = [
      heartbeatItem(1),
      { k: 'hello', id: '', body: msgpackEncode({ token: 'x' }) },
      { k: 'snapshotChunk', id: 't', body: msgpackEncode({ seq: 0, data: new Uint8Array(1), last: true }) },
      { k: 'batch', id: '', body: msgpackEncode([]) },
      { k: 'heartbeatRequest', id: '', body: new Uint8Array([0xc1]) },
      { k: 'heartbeatRequest', id: '', body: msgpackEncode({ term: -1 }) },
      { k: 'forwardResponse', id: 'r', body: msgpackEncode({ ok: true, index: 1 }) },
      heartbeatItem(2),
    ];
    const result = decodeInbound(encodeBatch(header, items), 'inbox', ctx);
    expect(outcomes(result)).toEqual([
      1,
      'wrongTopic', // presence is not batched
      'wrongTopic', // snapshot chunks go QoS 1, alone
      'wrongTopic', // no batch in a batch
      'undecodable',
      'invalidBody',
      'wrongTopic', // an answer belongs on the reply topic
      2,
    ]);
  });

  it('refuses a batch off the inbox and reply topics, to another member, or of the wrong size', () => {
    const two = [heartbeatItem(1), heartbeatItem(2)];
    expect(decodeInbound(encodeBatch({ ...header, t: null }, two), 'broadcast', ctx)).toMatchObject({
      ok: false,
      reason: 'wrongTopic',
    });
    expect(decodeInbound(encodeBatch({ ...header, t: 'c' }, two), 'inbox', ctx)).toMatchObject({
      ok: false,
      reason: 'wrongAddressee',
    });
    expect(() => encodeBatch(header, [heartbeatItem(1)])).toThrow(RangeError);
    const tooMany = Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => [
      'heartbeatRequest',
      '',
      msgpackEncode({ term: 2, commit: i, context: 0 }),
    ]);
    const forged = msgpackEncode({ v: 2, k: 'batch', id: '', f: 'a', t: 'b', c: 'c1', b: tooMany });
    expect(decodeInbound(forged, 'inbox', ctx)).toMatchObject({ ok: false, reason: 'invalidBody' });
    const notItems = msgpackEncode({ v: 2, k: 'batch', id: '', f: 'a', t: 'b', c: 'c1', b: [1, 2] });
    expect(outcomes(decodeInbound(notItems, 'inbox', ctx))).toEqual(['invalidBody', 'invalidBody']);
  });

  it('seals a batch once, and refuses it whole when it is replayed', () => {
    const key = randomBytes(32);
    const topic = new Topics('mqtt-raft', 'c1', 'b').inbox;
    const sealing = { seal: new EnvelopeSeal([key]), topic };
    const opened = { ...ctx, seal: new EnvelopeSeal([key]) };
    const payload = encodeBatch(header, [heartbeatItem(1), heartbeatItem(2)], '', sealing);
    expect(msgpackDecode(payload)).toMatchObject({ k: 'batch', n: 1 });
    expect(outcomes(decodeInbound(payload, 'inbox', opened, topic))).toEqual([1, 2]);
    expect(decodeInbound(payload, 'inbox', opened, topic)).toMatchObject({ ok: false, reason: 'replayed' });
  });
});

describe('MqttTransport: a batch carries no more authority than its items', () => {
  it("drops a forward of another member's request inside a batch, and serves its neighbour", async () => {
    const transport = new MqttTransport({ localId: 'b', url: 'mqtt://127.0.0.1:1', cluster: 'c1' });
    const served: string[] = [];
    const handler = new RecordingHandler();
    handler.onForwardBehavior = async (request) => {
      served.push(request.origin);
      return { ok: true, index: 1 };
    };
    // The handler `start` would install, and the entry point of every publish the broker delivers.
    const inside = transport as unknown as {
      handler: unknown;
      onPayload(topic: string, payload: Uint8Array, retained: boolean): void;
    };
    inside.handler = handler;
    const forward = (origin: string): BatchItem => ({
      k: 'forwardRequest',
      id: `r-${origin}`,
      body: msgpackEncode({ kind: 'barrier', origin, incarnation: 'i1', seq: 1 }),
    });
    const topic = new Topics('mqtt-raft', 'c1', 'b').inbox;
    inside.onPayload(topic, encodeBatch(header, [forward('z'), forward('a')]), false);
    await waitFor(() => served.length === 1, 5000, 'the forward of a to be served');
    expect(served).toEqual(['a']);
    expect(transport.stats.droppedReasons.forgedOrigin).toBe(1);
    await transport.close();
  });
});

describe.each(BROKER_KINDS)('MqttTransport: batches on the wire (%s)', (kind) => {
  const broker = useBroker(kind);
  const open = closedAfterEach<MqttTransport>();
  let spy: MqttClient | null = null;
  let clusters = 0;
  afterEach(async () => {
    await spy?.endAsync();
    spy = null;
  });

  it("sends one turn's forwards as one publish, and their answers as one", async () => {
    const cluster = `batch-${++clusters}`;
    const groupKey = randomBytes(32);
    const transports = new Map<string, { transport: MqttTransport; handler: RecordingHandler }>();
    for (const localId of ['a', 'b']) {
      const transport = new MqttTransport({ localId, url: broker.url, cluster, groupKey, closeGraceMs: 200 });
      const handler = new RecordingHandler();
      open.push(transport);
      await transport.start(handler);
      transports.set(localId, { transport, handler });
    }
    const a = transports.get('a');
    const b = transports.get('b');
    if (a === undefined || b === undefined) throw new Error('transports missing');
    b.handler.onForwardBehavior = async (request) => ({ ok: true, index: 100 + request.seq });
    const seen: Array<{ topic: string; kind: unknown }> = [];
    spy = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    const topicsOf = (id: string) => new Topics('mqtt-raft', cluster, id);
    spy.on('message', (topic, payload) =>
      seen.push({ topic, kind: (msgpackDecode(payload) as { k: unknown }).k }),
    );
    await spy.subscribeAsync([topicsOf('b').inbox, topicsOf('a').reply], { qos: 0 });

    const request = (seq: number): ForwardRequest => ({
      kind: 'barrier',
      origin: 'a',
      incarnation: 'i1',
      seq,
    });
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((seq) => a.transport.forward('b', request(seq), { timeoutMs: 5000 })),
    );
    expect(answers.map((answer) => (answer.ok ? answer.index : answer.error.code))).toEqual([
      101, 102, 103, 104, 105,
    ]);
    await waitFor(() => seen.length >= 2, 5000, 'the spy to see the request and the answer');
    // A message the spy can only see after both: it orders the spy's view.
    a.transport.send(heartbeatOf('a', 'b'));
    await waitFor(() => b.handler.messages.length === 1, 5000, 'b to get the heartbeat');
    await waitFor(() => seen.length === 3, 5000, 'the spy to see the heartbeat');
    expect(seen).toEqual([
      { topic: topicsOf('b').inbox, kind: 'batch' },
      { topic: topicsOf('a').reply, kind: 'batch' },
      { topic: topicsOf('b').inbox, kind: 'heartbeatRequest' },
    ]);
    expect(a.transport.stats.forwardsSent).toBe(5);
    expect(b.transport.stats.forwardsServed).toBe(5);
  });
});

function heartbeatOf(from: string, to: string): Message {
  return { type: 'heartbeatRequest', from, to, term: 1, commit: 0, context: 0 };
}
