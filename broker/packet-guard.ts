/**
 * A size limit enforced from MQTT fixed headers, before the broker buffers a packet's body.
 *
 * aedes (through mqtt-packet) collects a packet's body until it is complete and only then looks at
 * it, so a client announcing a 256 MiB PUBLISH makes the broker hold up to 256 MiB for it. The
 * guard sits between the connection and aedes, reads each packet's fixed header (type byte and
 * remaining length, MQTT 3.1.1 §2.2) as the bytes pass, and ends the connection as soon as a
 * header announces more than the limit: the body is never passed on, so never buffered.
 */
import { Duplex, pipeline, Transform, type TransformCallback } from 'node:stream';

/** An error the guard fails the connection with. */
export class PacketTooLarge extends Error {}

/** Where the parser is within the current packet. */
type State = 'type' | 'length' | 'body';

/** Passes bytes through unchanged while every announced packet is at most `maxPacketSize` bytes. */
export class PacketSizeGuard extends Transform {
  private state: State = 'type';
  /** The remaining length decoded so far (a variable-length integer, 7 bits per byte). */
  private length = 0;
  private lengthBytes = 0;
  /** Body bytes of the current packet not seen yet. */
  private bodyLeft = 0;

  constructor(private readonly maxPacketSize: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const error = this.scan(chunk);
    if (error !== null) callback(error);
    else callback(null, chunk);
  }

  /** Advances over `chunk`; returns the error that ends the connection, if any. */
  private scan(chunk: Buffer): Error | null {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        if (this.bodyLeft === 0) this.state = 'type';
      } else if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.lengthBytes = 0;
        i += 1;
      } else {
        const byte = chunk[i] as number;
        i += 1;
        this.length += (byte & 0x7f) * 128 ** this.lengthBytes;
        this.lengthBytes += 1;
        if ((byte & 0x80) !== 0) {
          // MQTT-2.2.3: at most four bytes of remaining length.
          if (this.lengthBytes === 4) return new PacketTooLarge('malformed remaining length');
          continue;
        }
        const size = 1 + this.lengthBytes + this.length;
        if (size > this.maxPacketSize) {
          return new PacketTooLarge(`packet of ${size} bytes exceeds maxPacketSize ${this.maxPacketSize}`);
        }
        this.bodyLeft = this.length;
        this.state = this.bodyLeft === 0 ? 'type' : 'body';
      }
    }
    return null;
  }
}

/**
 * `connection` as aedes should see it: reads go through a {@link PacketSizeGuard}, writes go
 * straight to the connection. When the guard fails, the connection is destroyed, which aedes sees
 * as the client going away.
 */
export function guarded(connection: Duplex, maxPacketSize: number): Duplex {
  const guard = new PacketSizeGuard(maxPacketSize);
  // pipeline destroys the connection when the guard fails, and the guard when the connection does.
  pipeline(connection, guard, () => undefined);
  return Duplex.from({ readable: guard, writable: connection });
}
