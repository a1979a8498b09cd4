import { decode as decodeMsgpack, encode } from '@msgpack/msgpack';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/errors.js';
import { MqttTransport, type MqttTransportOptions } from '../../src/transport/index.js';
import { heartbeat } from '../support/messages.js';
import { rejectionOf } from '../support/promises.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { BROKER_KINDS, closedAfterEach, useBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const WAIT_MS = 5000;

/** A valid envelope of a heartbeat from `f` to `t`, with fields to override. */
function envelope(cluster: string, fields: Record<string, unknown> = {}) {
  return {
    v: 2,
    k: 'heartbeatRequest',
    id: '',
    f: 'a',
    t: 'b',
    c: cluster,
    b: { term: 3, commit: 99, context: 0 },
    ...fields,
  };
}

describe.each(BROKER_KINDS)('MqttTransport: validation of what it receives (%s)', (kind) => {
  const broker = useBroker(kind);
  let rogue: MqttClient;
  let clusters = 0;
  const open = closedAfterEach<MqttTransport>();

  beforeAll(async () => {
    rogue = await connectAsync(broker.url, { protocolVersion: 4, clientId: 'rogue', reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await rogue.endAsync(true);
  });

  /** A started transport with a recording handler, in a cluster of the test's own. */
  async function node(localId: string, cluster: string, extra: Partial<MqttTransportOptions> = {}) {
    const transport = new MqttTransport({ localId, url: broker.url, cluster, closeGraceMs: 200, ...extra });
    const handler = new RecordingHandler();
    open.push(transport);
    await transport.start(handler);
    return { transport, handler };
  }

  function publish(topic: string, payload: Uint8Array | Buffer) {
    return rogue.publishAsync(topic, Buffer.from(payload), { qos: 1 });
  }

  it('drops garbage, counts it by reason, delivers nothing of it, and keeps working', async () => {
    const cluster = `validation-${++clusters}`;
    const logger = new RecordingLogger();
    const b = await node('b', cluster, {
      maxMessageBytes: 16_384,
      snapshotChunkBytes: 8192,
      logger,
    });
    const inbox = `mqtt-raft/${cluster}/node/b/in`;
    const reply = `mqtt-raft/${cluster}/node/b/reply`;
    const broadcast = `mqtt-raft/${cluster}/broadcast`;
    const garbage: Array<[topic: string, payload: Uint8Array, reason: string]> = [
      // 0xc1 is never used by msgpack.
      [inbox, new Uint8Array([0xc1, 0x13, 0x37, 0x00, 0xff]), 'undecodable'],
      [inbox, new Uint8Array(0), 'undecodable'],
      [inbox, encode(envelope(cluster, { v: 1 })), 'version'],
      [inbox, encode([1, 2, 3]), 'invalidEnvelope'],
      [inbox, encode('hello'), 'invalidEnvelope'],
      [inbox, encode(envelope(cluster, { f: 'a/b' })), 'invalidEnvelope'],
      [inbox, encode(envelope(cluster, { id: 7 })), 'invalidEnvelope'],
      [inbox, encode(envelope('another-cluster')), 'wrongCluster'],
      [inbox, encode(envelope(cluster, { t: 'c' })), 'wrongAddressee'],
      [inbox, encode(envelope(cluster, { t: null })), 'wrongAddressee'],
      [inbox, encode(envelope(cluster, { k: 'gossip' })), 'unknownKind'],
      [inbox, encode(envelope(cluster, { k: 'forwardResponse' })), 'wrongTopic'],
      [reply, encode(envelope(cluster)), 'wrongTopic'],
      [broadcast, encode(envelope(cluster, { k: 'forwardRequest', t: 'b' })), 'wrongAddressee'],
      [inbox, encode(envelope(cluster, { b: { term: 'three', commit: 1, context: 0 } })), 'invalidBody'],
      [inbox, encode(envelope(cluster, { b: { term: -1, commit: 1, context: 0 } })), 'invalidBody'],
      [inbox, encode(envelope(cluster, { b: { term: 1.5, commit: 1, context: 0 } })), 'invalidBody'],
      [inbox, encode(envelope(cluster, { b: null })), 'invalidBody'],
      [
        inbox,
        encode(
          envelope(cluster, {
            k: 'appendRequest',
            b: {
              term: 1,
              prevIndex: 0,
              prevTerm: 0,
              commit: 0,
              entries: [{ index: 1, term: 1, type: 'command', data: 'not bytes' }],
            },
          }),
        ),
        'invalidBody',
      ],
      [
        inbox,
        encode(
          envelope(cluster, {
            k: 'forwardRequest',
            id: 'x',
            b: { kind: 'apply', origin: 'a', incarnation: 'i1', seq: 1 },
          }),
        ),
        'invalidBody',
      ],
      [
        inbox,
        encode(
          envelope(cluster, {
            k: 'snapshotChunk',
            id: 'x',
            b: { seq: 0, data: new Uint8Array(3), last: true },
          }),
        ),
        'unknownTransfer',
      ],
      [
        reply,
        encode(envelope(cluster, { k: 'forwardResponse', id: 'nobody-asked', b: { ok: true, index: 1 } })),
        'lateResponse',
      ],
      [inbox, new Uint8Array(20_000), 'oversized'],
      [
        inbox,
        encode(envelope(cluster, { b: { term: 1, commit: 1, context: 0, pad: new Uint8Array(17_000) } })),
        'oversized',
      ],
    ];
    for (const [topic, payload] of garbage) await publish(topic, payload);
    // QoS 1 from one client on one topic arrives in order: once this marker is in, the garbage was judged.
    await publish(inbox, encode(envelope(cluster)));
    await waitFor(() => b.handler.messages.length === 1, WAIT_MS, 'the valid heartbeat after the garbage');
    await waitFor(() => b.transport.stats.dropped === garbage.length, WAIT_MS, 'every drop to be counted');

    expect(b.handler.messages).toEqual([{ ...heartbeat('a', 'b', 99) }]);
    expect(b.handler.forwards).toEqual([]);
    expect(b.handler.snapshots).toEqual([]);
    const expected: Record<string, number> = {};
    for (const [, , reason] of garbage) expected[reason] = (expected[reason] ?? 0) + 1;
    expect(b.transport.stats.droppedReasons).toEqual(expected);
    expect(b.transport.stats.received).toBe(1);
    // Logged at a bounded rate: once per reason (several payloads share one), all within the interval;
    // at warn level what a sender may be trying, at debug level late or stray answers.
    const reasons = [...new Set(garbage.map(([, , reason]) => reason))];
    const logged = logger.lines.filter((l) => l.message.startsWith('dropped'));
    expect(logged.map((l) => l.details.reason)).toEqual(reasons);
    expect(logged.filter((l) => l.level === 'warn').length).toBeGreaterThan(0);

    // Still fully working: a real member reaches it, and it answers forwards.
    const a = await node('a', cluster);
    a.transport.send(heartbeat('a', 'b', 100));
    await waitFor(() => b.handler.messages.length === 2, WAIT_MS, 'a message from a real member');
    b.handler.onForwardBehavior = async () => ({ ok: true, index: 5 });
    await expect(
      a.transport.forward(
        'b',
        { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: 1 },
        { timeoutMs: WAIT_MS },
      ),
    ).resolves.toEqual({ ok: true, index: 5 });
  });

  it('fails an incoming transfer whose chunks arrive out of sequence, and says so to the sender', async () => {
    const cluster = `validation-${++clusters}`;
    const b = await node('b', cluster);
    let streamError: unknown = null;
    b.handler.onSnapshotBehavior = async (_request, chunks) => {
      try {
        for await (const _ of chunks) {
          // Read until the transport fails the stream.
        }
      } catch (err) {
        streamError = err;
        throw err;
      }
    };
    const results: unknown[] = [];
    const replyOfX = `mqtt-raft/${cluster}/node/x/reply`;
    rogue.on('message', (topic, payload) => {
      if (topic === replyOfX) results.push(decodeQuietly(payload));
    });
    await rogue.subscribeAsync(replyOfX, { qos: 1 });
    const inbox = `mqtt-raft/${cluster}/node/b/in`;
    const base = { v: 2, id: 't1', f: 'x', t: 'b', c: cluster };
    const meta = {
      index: 10,
      term: 2,
      configIndex: 1,
      config: { servers: [{ id: 'b', suffrage: 'voter' }] },
    };
    await publish(inbox, encode({ ...base, k: 'snapshotBegin', b: { term: 3, snapshot: meta } }));
    await publish(
      inbox,
      encode({ ...base, k: 'snapshotChunk', b: { seq: 0, data: new Uint8Array([1]), last: false } }),
    );
    await publish(
      inbox,
      encode({ ...base, k: 'snapshotChunk', b: { seq: 2, data: new Uint8Array([3]), last: true } }),
    );
    await waitFor(() => streamError !== null, WAIT_MS, 'the stream to fail');
    expect(isRaftError(streamError, 'CORRUPTION')).toBe(true);
    await waitFor(
      () => results.some((r) => (r as { k?: string }).k === 'snapshotResult'),
      WAIT_MS,
      'the failed result',
    );
    const result = results.find((r) => (r as { k?: string }).k === 'snapshotResult') as {
      b: { ok: boolean; error: { code: string } };
    };
    expect(result.b.ok).toBe(false);
    expect(result.b.error.code).toBe('CORRUPTION');
    await rogue.unsubscribeAsync(replyOfX);
  });

  it('counts a second live instance with the same member id on both sides', async () => {
    const cluster = `validation-${++clusters}`;
    const first = await node('a', cluster);
    const second = await node('a', cluster);
    expect(first.transport.clientId).not.toBe(second.transport.clientId);
    await waitFor(
      () => first.transport.stats.duplicateMember > 0 && second.transport.stats.duplicateMember > 0,
      WAIT_MS,
      'both instances to notice each other',
    );
    // The broker kept both sessions: neither took over the other's client id.
    expect(first.transport.connected && second.transport.connected).toBe(true);
  });

  it('rejects ids and names that would break topics, with INVALID_CONFIG naming the field', () => {
    const url = 'mqtt://127.0.0.1:1883';
    const cases: Array<[Partial<MqttTransportOptions>, string]> = [
      [{ localId: 'a/b' }, 'localId: '],
      [{ localId: 'a+' }, 'localId: '],
      [{ localId: '#' }, 'localId: '],
      [{ localId: '' }, 'localId: '],
      [{ localId: 'a\u0000' }, 'localId: '],
      [{ cluster: 'x/y' }, 'cluster: '],
      [{ root: '$SYS' }, 'root: '],
      [{ root: 'a//b' }, 'root: '],
      [{ url: 'http://example.com' }, 'url: '],
      [{ connectTimeoutMs: 0 }, 'connectTimeoutMs: '],
      [{ snapshotChunkBytes: 1.5 }, 'snapshotChunkBytes: '],
      [{ snapshotChunkBytes: 8 * 1024 * 1024 }, 'snapshotChunkBytes: '],
    ];
    for (const [patch, prefix] of cases) {
      let thrown: unknown = null;
      try {
        new MqttTransport({ localId: 'a', url, ...patch });
      } catch (err) {
        thrown = err;
      }
      expect(isRaftError(thrown, 'INVALID_CONFIG'), JSON.stringify(patch)).toBe(true);
      expect((thrown as Error).message.startsWith(prefix), (thrown as Error).message).toBe(true);
    }
    expect(new MqttTransport({ localId: 'node-1.example:7', url, root: 'acme/raft' }).localId).toBe(
      'node-1.example:7',
    );
  });

  it('refuses to send to an id that cannot be a topic level, without throwing', async () => {
    const cluster = `validation-${++clusters}`;
    const a = await node('a', cluster);
    expect(() => a.transport.send(heartbeat('a', 'b/#', 1))).not.toThrow();
    expect(a.transport.stats.droppedReasons.invalidAddress).toBe(1);
    const err = await rejectionOf(
      a.transport.forward(
        'x/+',
        { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: 1 },
        { timeoutMs: 100 },
      ),
    );
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
  });
});

function decodeQuietly(payload: Buffer): unknown {
  try {
    return decodeMsgpack(payload);
  } catch {
    return null;
  }
}
