import { readFile } from 'node:fs/promises';
import { RaftError } from '../errors.js';

/**
 * The group key: the 32-byte secret every member of a group shares to seal its envelopes
 * (docs/security.md, "Sealed envelopes"). It may be given as bytes, as 64 hex digits or as base64
 * (standard or URL-safe, padded or not).
 */

/** Length of a group key, in bytes. */
export const GROUP_KEY_BYTES = 32;

/** The environment variable {@link groupKeysFromEnv} reads. */
export const GROUP_KEY_ENV = 'MQTT_RAFT_GROUP_KEY';

/** A group key as an option takes it. */
export type GroupKeyInput = Uint8Array | string;

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/_-]{43}={0,1}$/;

/** Why `key` is not a group key, or null when it is. */
export function groupKeyProblem(key: unknown): string | null {
  if (key instanceof Uint8Array) {
    return key.byteLength === GROUP_KEY_BYTES ? null : `must be ${GROUP_KEY_BYTES} bytes`;
  }
  if (typeof key !== 'string') return 'must be bytes or a string';
  const text = key.trim();
  if (HEX.test(text) || BASE64.test(text)) return null;
  return `must be ${GROUP_KEY_BYTES} bytes: 64 hex digits or base64`;
}

/** The key's 32 bytes (a copy); throws `INVALID_CONFIG` naming `field` when it is not a group key. */
export function parseGroupKey(key: GroupKeyInput, field = 'groupKey'): Uint8Array {
  const problem = groupKeyProblem(key);
  if (problem !== null) throw new RaftError('INVALID_CONFIG', `${field}: ${problem}`);
  if (key instanceof Uint8Array) return new Uint8Array(key);
  const text = key.trim();
  if (HEX.test(text)) return new Uint8Array(Buffer.from(text, 'hex'));
  return new Uint8Array(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

/**
 * Keys written as text, one per line or separated by commas: the first seals, every one opens
 * (a key rotation lists the new key first, then the old one). Blank lines and `#` comments are skipped.
 */
export function parseGroupKeyList(text: string, field: string): Uint8Array[] {
  const keys = text
    .split(/[\n,]/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '')
    .map((line, i) => parseGroupKey(line, `${field} (key ${i + 1})`));
  if (keys.length === 0) throw new RaftError('INVALID_CONFIG', `${field}: holds no key`);
  return keys;
}

/** The keys in `MQTT_RAFT_GROUP_KEY` (see {@link parseGroupKeyList}), or null when it is unset or empty. */
export function groupKeysFromEnv(env: NodeJS.ProcessEnv = process.env): Uint8Array[] | null {
  const value = env[GROUP_KEY_ENV];
  if (value === undefined || value.trim() === '') return null;
  return parseGroupKeyList(value, GROUP_KEY_ENV);
}

/** The keys in a key file (see {@link parseGroupKeyList}); throws `INVALID_CONFIG` when unreadable. */
export async function readGroupKeyFile(path: string): Promise<Uint8Array[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new RaftError('INVALID_CONFIG', `key file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseGroupKeyList(text, `key file ${path}`);
}
