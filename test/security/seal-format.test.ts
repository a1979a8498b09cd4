import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { msgpackDecode, msgpackEncode } from '../../src/msgpack.js';
import { encodeEnvelope, messageEnvelope } from '../../src/transport/mqtt-codec.js';
import { EnvelopeSeal } from '../../src/transport/mqtt-seal.js';
import { AssociatedDataWriter } from '../../src/transport/seal-aad.js';
import { appendWithEntries } from '../support/messages.js';

const KEY = randomBytes(32);

/** Opens a sealed payload as docs/protocol.md §3 describes it, with nothing from src/ but msgpack. */
function openByTheDocs(payload: Uint8Array, topic: string, groupKey: Uint8Array): unknown {
  const e = msgpackDecode(payload) as Record<string, unknown>;
  const s = e.s as Uint8Array;
  const n = e.n as number;
  const x = e.x as Uint8Array;
  const key = Buffer.from(hkdfSync('sha256', groupKey, s, Buffer.from('mqtt-raft envelope seal v1'), 32));
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(n), 4);
  const aad = msgpackEncode([e.v, e.k, e.id, e.f, e.t, e.c, e.g ?? '', topic, s, n]);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  decipher.setAAD(aad);
  decipher.setAuthTag(x.subarray(x.byteLength - 16));
  const body = Buffer.concat([decipher.update(x.subarray(0, x.byteLength - 16)), decipher.final()]);
  // A plain view, so that binary fields decode as Uint8Array, as the transport gives them.
  return msgpackDecode(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
}

/** A deterministic generator (xorshift32), so that a failure names a reproducible case. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

const ALPHABET = ['a', 'Z', '0', '/', '-', '\u0000', '\u007f', 'é', '\u0800', '€', '😀', '\ud800', '\udc00'];

function randomString(next: () => number): string {
  const lengths = [0, 1, 31, 32, 33, 50, 51, 255, 256, 300];
  const length = lengths[Math.floor(next() * lengths.length)] ?? 0;
  // Mostly ASCII, sometimes not: both paths of the writer, and lone surrogates.
  const ascii = next() < 0.6;
  let text = '';
  while (text.length < length) {
    const pick = ascii ? Math.floor(next() * 4) : Math.floor(next() * ALPHABET.length);
    text += ALPHABET[pick];
  }
  return text;
}

describe('sealed envelope format', () => {
  it('opens with the key, nonce and associated data docs/protocol.md §3 defines', () => {
    const seal = new EnvelopeSeal([KEY]);
    const message = appendWithEntries('a', 'b');
    const { type: _t, from: _f, to: _to, ...body } = message;
    for (const group of ['g1', '']) {
      const topic = 'mqtt-raft/c1/node/b/in';
      const payload = encodeEnvelope(messageEnvelope('c1', message), group, { seal, topic });
      expect(openByTheDocs(payload, topic, KEY)).toEqual(body);
    }
    const forward = {
      k: 'forwardRequest' as const,
      id: 'é-1',
      f: 'a',
      t: null,
      c: 'c1',
      b: { kind: 'barrier', origin: 'a', incarnation: 'i', seq: 2 },
    };
    const payload = encodeEnvelope(forward, 'g1', { seal, topic: 'mqtt-raft/c1/broadcast' });
    expect(openByTheDocs(payload, 'mqtt-raft/c1/broadcast', KEY)).toEqual(forward.b);
  });

  it('writes the associated data byte for byte as the msgpack encoder does', () => {
    const writer = new AssociatedDataWriter();
    const next = generator(0x5eed);
    const counters = [1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    for (let i = 0; i < 2000; i++) {
      const header = {
        v: i % 7 === 0 ? 200 : 1,
        k: randomString(next),
        id: randomString(next),
        f: randomString(next),
        t: next() < 0.2 ? null : randomString(next),
        c: randomString(next),
        g: randomString(next),
        topic: randomString(next),
      };
      const s = randomBytes(next() < 0.9 ? 16 : 300);
      const n = counters[i % counters.length] ?? 1;
      const expected = msgpackEncode([
        header.v,
        header.k,
        header.id,
        header.f,
        header.t,
        header.c,
        header.g,
        header.topic,
        s,
        n,
      ]);
      expect(Buffer.from(writer.write(header, s, n)).toString('hex'), `case ${i}`).toBe(
        Buffer.from(expected).toString('hex'),
      );
    }
  });
});
