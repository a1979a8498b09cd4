/** Where `set` takes its value from: the argument, a file (`--file`), or standard input (`-`). */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { UsageError } from './cli-error.js';
import { MAX_VALUE_BYTES, type WireValue } from './control-protocol.js';

/** The value's bytes: the argument as UTF-8, or a file's or standard input's bytes exactly as they are. */
export async function readValue(
  arg: string | undefined,
  file: string | undefined,
  stdin: Readable = process.stdin,
): Promise<Uint8Array> {
  if (arg !== undefined && file !== undefined) throw new UsageError('give <value> or --file, not both');
  let bytes: Uint8Array;
  if (file !== undefined) bytes = await readFileBounded(file);
  else if (arg === '-') bytes = await readBounded(stdin, 'standard input');
  else if (arg !== undefined) bytes = new TextEncoder().encode(arg);
  else throw new UsageError("missing <value> (or --file <path>, or '-' for standard input)");
  if (bytes.byteLength > MAX_VALUE_BYTES)
    throw tooLarge(file ?? (arg === '-' ? 'standard input' : 'the value'));
  return bytes;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The value as the control protocol carries it: text when the bytes are UTF-8 and JSON does not
 * make them longer than base64 would (control characters take six bytes each), else base64.
 */
export function wireValue(bytes: Uint8Array): WireValue {
  const base64 = Buffer.from(bytes).toString('base64');
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { value: base64, encoding: 'base64' };
  }
  return Buffer.byteLength(JSON.stringify(text)) <= base64.length + 2
    ? { value: text, encoding: 'utf8' }
    : { value: base64, encoding: 'base64' };
}

function tooLarge(what: string): UsageError {
  return new UsageError(
    `${what}: the value is larger than ${MAX_VALUE_BYTES} bytes, the most a key may hold`,
  );
}

/** Reads at most one byte more than the limit, so a huge file or endless stream is refused without being read. */
async function readFileBounded(path: string): Promise<Uint8Array> {
  try {
    return await readBounded(createReadStream(path), path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--file ${path}: ${(err as Error).message}`);
  }
}

async function readBounded(stream: Readable, what: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buffer);
    total += buffer.length;
    if (total > MAX_VALUE_BYTES) {
      stream.destroy();
      throw tooLarge(what);
    }
  }
  return new Uint8Array(Buffer.concat(chunks));
}
