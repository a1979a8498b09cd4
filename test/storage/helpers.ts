import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';

/** Temporary directories of one test file; `removeTempDirs` deletes them all. */
const dirs: string[] = [];

/** A new, empty temporary directory. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-storage-'));
  dirs.push(dir);
  return dir;
}

/** Deletes every directory made by {@link tempDir}. */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

const VIEW = { keyEncoding: 'view', valueEncoding: 'view' } as const;

/**
 * Opens a RaftStore's directory with classic-level directly, bypassing RaftStore, with the same
 * sublevel names and encodings RaftStore uses: how the tests damage stored records.
 */
export async function openRaw(dir: string) {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, VIEW);
  await db.open();
  return {
    db,
    log: db.sublevel<Uint8Array, Uint8Array>('log', VIEW),
    stable: db.sublevel<Uint8Array, Uint8Array>('stable', VIEW),
    snap: db.sublevel<Uint8Array, Uint8Array>('snap', VIEW),
  };
}

/** The log key of `index`: 8 bytes, big-endian. */
export function rawLogKey(index: number): Uint8Array {
  const key = new Uint8Array(8);
  new DataView(key.buffer).setBigUint64(0, BigInt(index));
  return key;
}

/** A copy of `bytes` with the byte at `position` inverted. */
export function flipByte(bytes: Uint8Array, position: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[position] = (out[position] ?? 0) ^ 0xff;
  return out;
}

/** Every key of a sublevel, as text (binary parts shown as \\xNN escapes by latin1 decoding). */
export async function rawKeys(sublevel: { keys(): AsyncIterable<Uint8Array> }): Promise<string[]> {
  const out: string[] = [];
  for await (const key of sublevel.keys()) out.push(Buffer.from(key).toString('latin1'));
  return out;
}
