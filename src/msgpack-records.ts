import { msgpackDecode } from './msgpack.js';
import { scanValue } from './msgpack-scan.js';

/**
 * Reads a stream of msgpack values written one after another (a snapshot's records), cut into
 * chunks anywhere. Each value is decoded only once it lies whole in the buffered bytes (found by
 * `scanValue`, which allocates nothing per value): the package's stream decoder instead decodes
 * each value again from its start whenever a chunk arrives, reserving memory for every declared
 * size each time, so a 9 KB record of nested array headers took 11 s and 400 MB.
 *
 * A value is scanned again only once the bytes buffered for it have doubled, so the time spent is
 * linear in the stream's length. Binary fields are views into the buffer; they stay valid (the
 * buffer is replaced when it grows, never overwritten).
 *
 * @throws RangeError when the stream ends inside a value or holds an invalid one; errors of
 * `chunks` pass through.
 */
export async function* msgpackRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<unknown, void> {
  let buffer = new Uint8Array(0);
  let start = 0;
  let end = 0;
  // Buffered bytes of the current value at which to scan it again.
  let scanAt = 1;
  for await (const chunk of chunks) {
    if (end + chunk.byteLength > buffer.byteLength) {
      const next = new Uint8Array(Math.max(2 * (end - start + chunk.byteLength), 64 * 1024));
      next.set(buffer.subarray(start, end));
      buffer = next;
      end -= start;
      start = 0;
    }
    buffer.set(chunk, end);
    end += chunk.byteLength;
    while (end - start >= scanAt) {
      const found = scanValue(buffer, start, end);
      if (found.kind === 'invalid') throw new RangeError(`msgpack: ${found.reason}`);
      if (found.kind === 'incomplete') {
        scanAt = 2 * (end - start);
        break;
      }
      const value = msgpackDecode(buffer.subarray(start, found.end));
      start = found.end;
      scanAt = 1;
      yield value;
    }
  }
  while (start < end) {
    const found = scanValue(buffer, start, end);
    if (found.kind !== 'complete') {
      throw new RangeError(
        found.kind === 'invalid' ? `msgpack: ${found.reason}` : 'msgpack: the stream ends inside a value',
      );
    }
    const value = msgpackDecode(buffer.subarray(start, found.end));
    start = found.end;
    yield value;
  }
}
