import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { DEFAULT_REPLAY_LIMITS, ReplayGuard, type ReplayLimits } from './replay-window.js';
import { AssociatedDataWriter } from './seal-aad.js';

/**
 * Sealed envelopes (docs/protocol.md §3, docs/security.md): the body is encrypted and authenticated
 * with AES-256-GCM, and the header (version, kind, id, sender, addressee, cluster, group, topic,
 * incarnation, counter) is its associated data, so no field of it can be changed either.
 *
 * Each sender process has a random incarnation token `s` and numbers its envelopes `n` = 1, 2, …
 * It seals with a key derived (HKDF-SHA-256) from the group key and `s`, and the nonce is `n`: a
 * nonce never repeats under one key, however many messages the group sends (random 96-bit nonces
 * would wear a single key out after about 2^32 messages, days of a busy group).
 */

/** Bytes of an incarnation token: 6 of start time (ms since 1970, big-endian), 10 random. */
export const INCARNATION_BYTES = 16;
const TAG_BYTES = 16;
const NONCE_BYTES = 12;
const ALGORITHM = 'aes-256-gcm';
const CIPHER_OPTIONS = { authTagLength: TAG_BYTES };
const HKDF_INFO = Buffer.from('mqtt-raft envelope seal v1');
/** Derived keys kept for incarnations that opened an envelope; more are derived again when needed. */
const DERIVED_KEYS_KEPT = 1024;

/** The header fields bound into the seal as associated data. */
export interface SealHeader {
  readonly v: number;
  readonly k: string;
  readonly id: string;
  readonly f: string;
  readonly t: string | null;
  readonly c: string;
  /** '' when the envelope has no group. */
  readonly g: string;
  /** The topic the envelope is published on (not sent: the receiver knows where it arrived). */
  readonly topic: string;
}

/** What a sealed envelope carries in place of its body `b`. */
export interface SealFields {
  /** Sender incarnation token. */
  readonly s: Uint8Array;
  /** Counter, from 1. */
  readonly n: number;
  /** Encrypted body followed by the 16-byte tag. */
  readonly x: Uint8Array;
}

/** The outcome of {@link EnvelopeSeal.open}: the body's bytes, or why the envelope is dropped. */
export type OpenResult =
  | { readonly ok: true; readonly body: Uint8Array }
  | { readonly ok: false; readonly reason: SealDropReason; readonly detail: string };

/** Why a sealed envelope was dropped. */
export type SealDropReason = 'badSeal' | 'replayed' | 'staleIncarnation';

/**
 * Writes the nonce of counter `n` into `nonce` (12 bytes, its first four stay zero) and returns it.
 * A cipher copies its nonce when it is created, so one buffer serves every envelope.
 */
function nonceOf(n: number, nonce: Buffer): Buffer {
  nonce.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 4);
  nonce.writeUInt32BE(n >>> 0, 8);
  return nonce;
}

function deriveKey(groupKey: Uint8Array, incarnation: Uint8Array): KeyObject {
  return createSecretKey(new Uint8Array(hkdfSync('sha256', groupKey, incarnation, HKDF_INFO, 32)));
}

/** The start time (ms) written in an incarnation token. */
export function startTimeOf(incarnation: Uint8Array): number {
  return Buffer.from(incarnation.buffer, incarnation.byteOffset, incarnation.byteLength).readUIntBE(0, 6);
}

/** A fresh incarnation token: now, then random bytes. */
export function newIncarnation(now = Date.now()): Uint8Array {
  const token = randomBytes(INCARNATION_BYTES);
  token.writeUIntBE(now, 0, 6);
  return new Uint8Array(token.buffer, token.byteOffset, token.byteLength);
}

/**
 * Seals this process's envelopes and opens its peers'. `keys[0]` seals; every key opens (during a
 * key rotation, a member holds the new key first and the old one after it).
 */
export class EnvelopeSeal {
  readonly incarnation: Uint8Array = newIncarnation();
  private counter = 0;
  private readonly sealingKey: KeyObject;
  private readonly replays: ReplayGuard;
  /** Derived opening keys by incarnation (hex), only for incarnations that sealed successfully. */
  private readonly opening = new Map<string, KeyObject>();
  /** Scratch space for the associated data and the nonce of the envelope being sealed or opened. */
  private readonly aad = new AssociatedDataWriter();
  private readonly nonce = Buffer.alloc(NONCE_BYTES);

  constructor(
    private readonly keys: readonly Uint8Array[],
    limits: ReplayLimits = DEFAULT_REPLAY_LIMITS,
  ) {
    const first = keys[0];
    if (first === undefined) throw new RangeError('EnvelopeSeal needs at least one key');
    this.sealingKey = deriveKey(first, this.incarnation);
    this.replays = new ReplayGuard(limits);
  }

  /** Incarnations whose counters are tracked now. */
  get trackedIncarnations(): number {
    return this.replays.size;
  }

  /** Seals `body` (the msgpack of `b`) under `header`. */
  seal(header: SealHeader, body: Uint8Array): SealFields {
    const n = ++this.counter;
    const s = this.incarnation;
    const cipher = createCipheriv(ALGORITHM, this.sealingKey, nonceOf(n, this.nonce), CIPHER_OPTIONS);
    cipher.setAAD(this.aad.write(header, s, n));
    const x = Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]);
    return { s, n, x };
  }

  /**
   * Authenticates and decrypts a sealed body, then refuses it if its counter was seen before.
   * Nothing is remembered about an envelope that fails authentication.
   */
  open(header: SealHeader, fields: SealFields): OpenResult {
    const { s, n, x } = fields;
    if (s.byteLength !== INCARNATION_BYTES) return refuse('badSeal', 'incarnation token of the wrong size');
    if (n < 1 || x.byteLength < TAG_BYTES) return refuse('badSeal', 'no counter or no tag');
    const hex = Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('hex');
    const aad = this.aad.write(header, s, n);
    const nonce = nonceOf(n, this.nonce);
    const cached = this.opening.get(hex);
    let body: Uint8Array | null = null;
    if (cached !== undefined) {
      // An incarnation seals with one key for its whole life: a known one is tried with that key only.
      body = decrypt(cached, nonce, aad, x);
    } else {
      for (const key of this.keys) {
        const derived = deriveKey(key, s);
        body = decrypt(derived, nonce, aad, x);
        if (body !== null) {
          this.remember(hex, derived);
          break;
        }
      }
    }
    if (body === null) return refuse('badSeal', `from ${header.f}: authentication failed`);
    const verdict = this.replays.accept(header.f, hex, startTimeOf(s), n);
    if (verdict === 'ok') return { ok: true, body };
    if (verdict === 'staleIncarnation')
      return refuse('staleIncarnation', `from ${header.f}: an incarnation older than one forgotten`);
    return refuse(
      'replayed',
      `from ${header.f}: counter ${n} ${verdict === 'tooOld' ? 'below the window' : 'seen before'}`,
    );
  }

  private remember(hex: string, key: KeyObject): void {
    if (this.opening.size >= DERIVED_KEYS_KEPT) {
      const oldest = this.opening.keys().next().value;
      if (oldest !== undefined) this.opening.delete(oldest);
    }
    this.opening.set(hex, key);
  }
}

function refuse(reason: SealDropReason, detail: string): OpenResult {
  return { ok: false, reason, detail };
}

/** The plaintext, or null when the tag does not match. */
function decrypt(key: KeyObject, nonce: Buffer, aad: Uint8Array, x: Uint8Array): Uint8Array | null {
  const end = x.byteLength - TAG_BYTES;
  try {
    const decipher = createDecipheriv(ALGORITHM, key, nonce, CIPHER_OPTIONS);
    decipher.setAAD(aad);
    decipher.setAuthTag(x.subarray(end));
    const text = decipher.update(x.subarray(0, end));
    // GCM yields everything from update(); final() checks the tag (and throws when it does not match).
    const rest = decipher.final();
    const out = rest.byteLength === 0 ? text : Buffer.concat([text, rest]);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return null;
  }
}
