import { describe, expect, it } from 'vitest';
import {
  decodeInbound,
  encodeEnvelope,
  messageEnvelope,
  type OutboundEnvelope,
} from '../../src/transport/mqtt-codec.js';
import { pieces } from '../../src/transport/mqtt-snapshot-send.js';
import { clientIdOf, nameProblem, rootProblem, Topics } from '../../src/transport/mqtt-topics.js';
import { MESSAGE_KINDS, oneOfEachKind, patternBytes } from '../support/messages.js';
import { concat, streamOf } from '../support/recording-handler.js';

const ctx = { cluster: 'c1', localId: 'b', maxBytes: 1024 * 1024 };

describe('MQTT envelope codec', () => {
  it('round-trips every kind of core message', () => {
    const all = oneOfEachKind('a', 'b');
    expect(new Set(all.map((m) => m.type))).toEqual(new Set(MESSAGE_KINDS));
    for (const message of all) {
      const decoded = decodeInbound(encodeEnvelope(messageEnvelope('c1', message)), 'inbox', ctx);
      expect(decoded).toEqual({ ok: true, inbound: { kind: 'message', message } });
    }
  });

  it('decodes binary fields as plain Uint8Arrays even from a Node Buffer', () => {
    const [, , append] = oneOfEachKind('a', 'b');
    if (append?.type !== 'appendRequest') throw new Error('expected an append request');
    const decoded = decodeInbound(Buffer.from(encodeEnvelope(messageEnvelope('c1', append))), 'inbox', ctx);
    if (
      !decoded.ok ||
      decoded.inbound.kind !== 'message' ||
      decoded.inbound.message.type !== 'appendRequest'
    ) {
      throw new Error('expected a decoded append request');
    }
    for (const entry of decoded.inbound.message.entries) {
      expect(Object.getPrototypeOf(entry.data)).toBe(Uint8Array.prototype);
    }
  });

  it('round-trips control envelopes and leaves absent optional fields absent', () => {
    const envelope: OutboundEnvelope = {
      k: 'forwardRequest',
      id: 'tok-1',
      f: 'a',
      t: 'b',
      c: 'c1',
      b: { kind: 'addVoter', origin: 'a', incarnation: 'i1', seq: 4, id: 'd', prevIndex: undefined },
    };
    const decoded = decodeInbound(encodeEnvelope(envelope), 'inbox', ctx);
    expect(decoded).toEqual({
      ok: true,
      inbound: {
        kind: 'forwardRequest',
        id: 'tok-1',
        from: 'a',
        to: 'b',
        body: { kind: 'addVoter', origin: 'a', incarnation: 'i1', seq: 4, id: 'd' },
      },
    });
    if (decoded.ok && decoded.inbound.kind === 'forwardRequest')
      expect('prevIndex' in decoded.inbound.body).toBe(false);
  });

  it('ignores unknown fields, so peers may add some without a new version', () => {
    const payload = encodeEnvelope({
      k: 'heartbeatRequest',
      id: '',
      f: 'a',
      t: 'b',
      c: 'c1',
      b: { term: 1, commit: 2, context: 0, future: 'field' },
    });
    const decoded = decodeInbound(payload, 'inbox', ctx);
    expect(decoded.ok && decoded.inbound.kind === 'message' && decoded.inbound.message).toEqual({
      type: 'heartbeatRequest',
      from: 'a',
      to: 'b',
      term: 1,
      commit: 2,
      context: 0,
    });
  });

  it('reads an unknown error code as UNREACHABLE', () => {
    const payload = encodeEnvelope({
      k: 'forwardResponse',
      id: 'x',
      f: 'a',
      t: 'b',
      c: 'c1',
      b: {
        ok: false,
        error: { code: 'FROM_THE_FUTURE', message: 'm', retryable: true, indefinite: false, leader: null },
      },
    });
    const decoded = decodeInbound(payload, 'reply', ctx);
    expect(decoded.ok && decoded.inbound.kind === 'forwardResponse' && decoded.inbound.body).toEqual({
      ok: false,
      error: { code: 'UNREACHABLE', message: 'm', retryable: true, indefinite: false, leader: null },
    });
  });
});

describe('snapshot pieces', () => {
  async function collect(source: AsyncIterable<Uint8Array>, max: number) {
    const out: Array<{ data: Uint8Array; last: boolean }> = [];
    for await (const p of pieces(source, max)) out.push(p);
    return out;
  }

  it('cuts any source into full pieces and a shorter last one, marking only the last', async () => {
    const total = 10_000;
    const parts = [
      patternBytes(0, 1),
      patternBytes(1, 4999),
      patternBytes(5000, 3000),
      patternBytes(8000, 2000),
    ];
    const out = await collect(streamOf(...parts), 4096);
    expect(out.map((p) => p.data.length)).toEqual([4096, 4096, 1808]);
    expect(out.map((p) => p.last)).toEqual([false, false, true]);
    expect(Buffer.from(concat(out.map((p) => p.data))).equals(Buffer.from(patternBytes(0, total)))).toBe(
      true,
    );
  });

  it('marks an exactly full last piece, and turns an empty source into one empty last piece', async () => {
    expect((await collect(streamOf(patternBytes(0, 8)), 4)).map((p) => [p.data.length, p.last])).toEqual([
      [4, false],
      [4, true],
    ]);
    expect(await collect(streamOf(), 4)).toEqual([{ data: new Uint8Array(0), last: true }]);
  });

  it('copies the data, so a source may reuse its buffer', async () => {
    const buffer = new Uint8Array(4);
    async function* reusing() {
      for (let i = 1; i <= 3; i++) {
        buffer.fill(i);
        yield buffer;
      }
    }
    const out = await collect(reusing(), 4);
    expect(out.map((p) => p.data[0])).toEqual([1, 2, 3]);
  });
});

describe('MQTT topics and names', () => {
  it('builds the topics of a node under root and cluster', () => {
    const topics = new Topics('acme/raft', 'prod', 'n1');
    expect(topics.inbox).toBe('acme/raft/prod/node/n1/in');
    expect(topics.reply).toBe('acme/raft/prod/node/n1/reply');
    expect(topics.broadcast).toBe('acme/raft/prod/broadcast');
    expect(topics.roleOf('acme/raft/prod/node/n2/in')).toBeNull();
    expect(clientIdOf('prod', 'n1', 'abc')).toBe('mqtt-raft-prod-n1-abc');
  });

  it('refuses names that would change the topic structure', () => {
    for (const bad of ['', 'a/b', 'a+', '#', 'x\u0000', 'tab\t', '\ud800', 'x'.repeat(257)]) {
      expect(nameProblem(bad), JSON.stringify(bad)).not.toBeNull();
    }
    for (const good of ['n1', 'node-1.example.com:7', 'ünïcode', '$dollar', 'x'.repeat(256)]) {
      expect(nameProblem(good), good).toBeNull();
    }
    expect(rootProblem('a/b/c')).toBeNull();
    for (const bad of ['', '/a', 'a/', 'a//b', '$SYS', 'a/+', 'a#'])
      expect(rootProblem(bad), bad).not.toBeNull();
  });
});
