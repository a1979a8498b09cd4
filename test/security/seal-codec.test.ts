import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { msgpackDecode, msgpackEncode } from '../../src/msgpack.js';
import { parseGroupKey, parseGroupKeyList } from '../../src/transport/group-key.js';
import { decodeInbound, encodeEnvelope, messageEnvelope } from '../../src/transport/mqtt-codec.js';
import { EnvelopeSeal, INCARNATION_BYTES, startTimeOf } from '../../src/transport/mqtt-seal.js';
import { oneOfEachKind } from '../support/messages.js';

const TOPIC = 'mqtt-raft/c1/node/b/in';
const KEY = randomBytes(32);
const OTHER_KEY = randomBytes(32);

function receiver(keys: Uint8Array[] = [KEY]) {
  return { cluster: 'c1', group: 'g1', localId: 'b', maxBytes: 1024 * 1024, seal: new EnvelopeSeal(keys) };
}

function sealedHeartbeat(seal: EnvelopeSeal, topic = TOPIC): Uint8Array {
  const heartbeat = { type: 'heartbeatRequest', from: 'a', to: 'b', term: 3, commit: 9, context: 1 } as const;
  return encodeEnvelope(messageEnvelope('c1', heartbeat), 'g1', { seal, topic });
}

/** Re-encodes a sealed payload with `change` applied to its outer map. */
function tamper(payload: Uint8Array, change: (map: Record<string, unknown>) => void): Uint8Array {
  const map = msgpackDecode(payload) as Record<string, unknown>;
  change(map);
  return msgpackEncode(map);
}

function flip(bytes: Uint8Array, at: number): void {
  bytes[at] = (bytes[at] ?? 0) ^ 1;
}

describe('sealed envelopes', () => {
  it('round-trip every kind of core message, with no plaintext body on the wire', () => {
    const sender = new EnvelopeSeal([KEY]);
    const ctx = receiver();
    for (const message of oneOfEachKind('a', 'b')) {
      const payload = encodeEnvelope(messageEnvelope('c1', message), 'g1', { seal: sender, topic: TOPIC });
      const outer = msgpackDecode(payload) as Record<string, unknown>;
      expect(outer.b).toBeUndefined();
      expect(outer.x).toBeInstanceOf(Uint8Array);
      expect(decodeInbound(payload, 'inbox', ctx, TOPIC)).toEqual({
        ok: true,
        inbound: { kind: 'message', message },
      });
    }
  });

  it('refuse any change to the header, the topic or the body', () => {
    const sender = new EnvelopeSeal([KEY]);
    const ctx = receiver();
    const changes: Array<[string, (m: Record<string, unknown>) => void]> = [
      ['kind', (m) => (m.k = 'heartbeatResponse')],
      ['sender', (m) => (m.f = 'c')],
      ['addressee', (m) => (m.t = 'c')],
      ['id', (m) => (m.id = 'x')],
      ['group', (m) => (m.g = 'g2')],
      ['counter', (m) => (m.n = (m.n as number) + 1)],
      ['incarnation', (m) => flip(m.s as Uint8Array, 15)],
      ['body', (m) => flip(m.x as Uint8Array, 0)],
      ['tag', (m) => flip(m.x as Uint8Array, (m.x as Uint8Array).length - 1)],
    ];
    for (const [what, change] of changes) {
      const result = decodeInbound(tamper(sealedHeartbeat(sender), change), 'inbox', ctx, TOPIC);
      expect({ what, reason: result.ok ? 'accepted' : result.reason }).toEqual({ what, reason: 'badSeal' });
    }
    const elsewhere = decodeInbound(sealedHeartbeat(sender), 'inbox', ctx, 'mqtt-raft/c1/node/c/in');
    expect(elsewhere.ok ? 'accepted' : elsewhere.reason).toBe('badSeal');
  });

  it('refuse a replay, an unsealed envelope, a wrong key, and a sealed envelope without a key', () => {
    const sender = new EnvelopeSeal([KEY]);
    const ctx = receiver();
    const payload = sealedHeartbeat(sender);
    expect(decodeInbound(payload, 'inbox', ctx, TOPIC).ok).toBe(true);
    const again = decodeInbound(payload, 'inbox', ctx, TOPIC);
    expect(again.ok ? 'accepted' : again.reason).toBe('replayed');

    const plain = encodeEnvelope(
      messageEnvelope('c1', { type: 'timeoutNow', from: 'a', to: 'b', term: 9 }),
      'g1',
    );
    const unsealed = decodeInbound(plain, 'inbox', ctx, TOPIC);
    expect(unsealed.ok ? 'accepted' : unsealed.reason).toBe('unsealed');

    const wrong = decodeInbound(sealedHeartbeat(new EnvelopeSeal([OTHER_KEY])), 'inbox', ctx, TOPIC);
    expect(wrong.ok ? 'accepted' : wrong.reason).toBe('badSeal');

    const { seal: _none, ...keyless } = receiver();
    const noKey = decodeInbound(sealedHeartbeat(sender), 'inbox', keyless, TOPIC);
    expect(noKey.ok ? 'accepted' : noKey.reason).toBe('sealedWithoutKey');
  });

  it('open with every key of a rotation, and seal with the first', () => {
    const rotated = new EnvelopeSeal([OTHER_KEY, KEY]);
    const old = new EnvelopeSeal([KEY]);
    // The rotated member opens the old key's envelopes…
    expect(decodeInbound(sealedHeartbeat(old), 'inbox', receiver([OTHER_KEY, KEY]), TOPIC).ok).toBe(true);
    // …and seals with the new one, which a member holding only the old key cannot open.
    const fromRotated = sealedHeartbeat(rotated);
    expect(decodeInbound(fromRotated, 'inbox', receiver([OTHER_KEY]), TOPIC).ok).toBe(true);
    const byOld = decodeInbound(sealedHeartbeat(rotated), 'inbox', receiver([KEY]), TOPIC);
    expect(byOld.ok ? 'accepted' : byOld.reason).toBe('badSeal');
  });

  it('stamp each incarnation with its start time and count from 1', () => {
    const before = Date.now();
    const seal = new EnvelopeSeal([KEY]);
    expect(seal.incarnation.byteLength).toBe(INCARNATION_BYTES);
    expect(startTimeOf(seal.incarnation)).toBeGreaterThanOrEqual(before);
    expect(startTimeOf(seal.incarnation)).toBeLessThanOrEqual(Date.now());
    const header = { v: 2, k: 'hello', id: '', f: 'a', t: 'a', c: 'c1', g: '', topic: TOPIC };
    expect(seal.seal(header, new Uint8Array(1)).n).toBe(1);
    expect(seal.seal(header, new Uint8Array(1)).n).toBe(2);
  });
});

describe('group keys', () => {
  it('parse 32 bytes given as bytes, hex or base64, and refuse anything else', () => {
    const key = randomBytes(32);
    expect(parseGroupKey(key)).toEqual(new Uint8Array(key));
    expect(parseGroupKey(key.toString('hex'))).toEqual(new Uint8Array(key));
    expect(parseGroupKey(key.toString('base64'))).toEqual(new Uint8Array(key));
    expect(parseGroupKey(key.toString('base64url'))).toEqual(new Uint8Array(key));
    expect(() => parseGroupKey(randomBytes(16))).toThrow(/groupKey: must be 32 bytes/);
    expect(() => parseGroupKey('secret')).toThrow(/groupKey: must be 32 bytes/);
  });

  it('read a list: the first seals, comments and blank lines are skipped', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const text = `# new key\n${a.toString('hex')}\n\n${b.toString('base64')} # old key\n`;
    expect(parseGroupKeyList(text, 'f')).toEqual([new Uint8Array(a), new Uint8Array(b)]);
    expect(() => parseGroupKeyList('# nothing\n', 'f')).toThrow(/f: holds no key/);
  });
});
