import { msgpackEncode } from '../msgpack.js';
import type { SealHeader } from './mqtt-seal.js';

/**
 * The associated data of a sealed envelope (docs/protocol.md §3): the msgpack encoding of the
 * array `[v, k, id, f, t, c, g, topic, s, n]`. Both ends build it for every envelope, so it is
 * written here straight into a reused buffer: the generic encoder took about four times as long
 * (1 µs against 0.25 µs) and left a fresh copy behind each time. The bytes must stay exactly
 * what `msgpackEncode` gives for that array (a peer running the generic encoder must agree), so
 * anything off the common path (a string that is not ASCII, a number that is not a non-negative
 * safe integer) is encoded by the generic encoder and copied in.
 */
export class AssociatedDataWriter {
  private buffer = new Uint8Array(256);
  private pos = 0;

  /**
   * The associated data of one envelope: a view into this writer's buffer, valid until its next
   * call (a cipher takes it in at once).
   */
  write(header: SealHeader, s: Uint8Array, n: number): Uint8Array {
    const { v, k, id, f, t, c, g, topic } = header;
    // At most 3 bytes of UTF-8 per UTF-16 unit, 5 of header per string, 9 per number.
    const strings = k.length + id.length + f.length + (t?.length ?? 0) + c.length + g.length + topic.length;
    this.reserve(1 + 9 + 3 * strings + 5 * 7 + 1 + 5 + s.byteLength + 9);
    this.pos = 0;
    this.byte(0x9a); // fixarray of 10
    this.uint(v);
    this.string(k);
    this.string(id);
    this.string(f);
    if (t === null) this.byte(0xc0);
    else this.string(t);
    this.string(c);
    this.string(g);
    this.string(topic);
    this.binary(s);
    this.uint(n);
    return this.buffer.subarray(0, this.pos);
  }

  /** Grows the buffer to hold `bytes`, keeping what is written so far. */
  private reserve(bytes: number): void {
    if (this.buffer.byteLength >= bytes) return;
    const grown = new Uint8Array(Math.max(bytes, 2 * this.buffer.byteLength));
    grown.set(this.buffer.subarray(0, this.pos));
    this.buffer = grown;
  }

  private byte(value: number): void {
    this.buffer[this.pos++] = value;
  }

  private uint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0 || value >= 0x1_0000_0000) {
      this.generic(value);
      return;
    }
    if (value < 0x80) {
      this.byte(value);
    } else if (value < 0x100) {
      this.byte(0xcc);
      this.byte(value);
    } else if (value < 0x1_0000) {
      this.byte(0xcd);
      this.bigEndian(value, 2);
    } else {
      this.byte(0xce);
      this.bigEndian(value, 4);
    }
  }

  private bigEndian(value: number, bytes: number): void {
    for (let i = bytes - 1; i >= 0; i--) this.buffer[this.pos++] = (value >>> (8 * i)) & 0xff;
  }

  /** An ASCII string of fewer than 256 bytes; any other goes through the generic encoder. */
  private string(value: string): void {
    const length = value.length;
    if (length >= 0x100) {
      this.generic(value);
      return;
    }
    const start = this.pos;
    if (length < 32) {
      this.byte(0xa0 + length);
    } else {
      this.byte(0xd9);
      this.byte(length);
    }
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        this.pos = start;
        this.generic(value);
        return;
      }
      this.buffer[this.pos++] = code;
    }
  }

  private binary(value: Uint8Array): void {
    if (value.byteLength >= 0x100) {
      this.generic(value);
      return;
    }
    this.byte(0xc4);
    this.byte(value.byteLength);
    this.buffer.set(value, this.pos);
    this.pos += value.byteLength;
  }

  private generic(value: unknown): void {
    const bytes = msgpackEncode(value);
    this.reserve(this.pos + bytes.byteLength + 64);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }
}
