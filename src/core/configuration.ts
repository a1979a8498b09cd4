import type { Configuration, NodeId, Server, Suffrage } from './types.js';

/** A configuration with no servers: the state of a server that has not been bootstrapped or joined. */
export const EMPTY_CONFIGURATION: Configuration = { servers: [] };

/** Ids of the servers whose votes count for elections and commitment. */
export function votersOf(config: Configuration): NodeId[] {
  return config.servers.filter((s) => s.suffrage === 'voter').map((s) => s.id);
}

/** The suffrage of `id`, or undefined when it is not a member. */
export function suffrageOf(config: Configuration, id: NodeId): Suffrage | undefined {
  return config.servers.find((s) => s.id === id)?.suffrage;
}

/** True when `id` votes in `config`. */
export function isVoter(config: Configuration, id: NodeId): boolean {
  return suffrageOf(config, id) === 'voter';
}

/** A copy of `config` with `server` added, or its suffrage replaced when already present. */
export function withServer(config: Configuration, server: Server): Configuration {
  const found = config.servers.some((s) => s.id === server.id);
  const servers = found
    ? config.servers.map((s) => (s.id === server.id ? server : s))
    : [...config.servers, server];
  return { servers };
}

/** A copy of `config` without `id`. */
export function withoutServer(config: Configuration, id: NodeId): Configuration {
  return { servers: config.servers.filter((s) => s.id !== id) };
}

/** True when both configurations have the same servers with the same suffrage, in any order. */
export function sameConfiguration(a: Configuration, b: Configuration): boolean {
  if (a.servers.length !== b.servers.length) return false;
  return a.servers.every((s) => suffrageOf(b, s.id) === s.suffrage);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a configuration as the data of a `config` entry. */
export function encodeConfiguration(config: Configuration): Uint8Array {
  return encoder.encode(JSON.stringify(config.servers.map((s) => [s.id, s.suffrage])));
}

/** Decodes the data of a `config` entry; throws on malformed data, which only corruption can produce. */
export function decodeConfiguration(data: Uint8Array): Configuration {
  const raw: unknown = JSON.parse(decoder.decode(data));
  if (!Array.isArray(raw)) throw new Error('configuration entry is not a list');
  const servers = raw.map((item: unknown): Server => {
    if (!Array.isArray(item) || typeof item[0] !== 'string' || !isSuffrage(item[1])) {
      throw new Error('malformed server in configuration entry');
    }
    return { id: item[0], suffrage: item[1] };
  });
  return { servers };
}

/**
 * Decodes the data of a `config` entry received from a peer: null instead of an exception when
 * it is malformed, or is no configuration a leader could have proposed (no voter, an empty or
 * repeated id). Such an entry is dropped before it is appended, so it can never be persisted and
 * then fail every restart (design §7).
 */
export function tryDecodeConfiguration(data: Uint8Array): Configuration | null {
  let config: Configuration;
  try {
    config = decodeConfiguration(data);
  } catch {
    return null;
  }
  return validConfiguration(config) ? config : null;
}

/** True for a configuration a leader could have made: at least one voter, ids non-empty and distinct. */
export function validConfiguration(config: Configuration): boolean {
  if (typeof config !== 'object' || config === null || !Array.isArray(config.servers)) return false;
  const ids = new Set<string>();
  for (const s of config.servers as readonly unknown[]) {
    if (typeof s !== 'object' || s === null) return false;
    const { id, suffrage } = s as { id: unknown; suffrage: unknown };
    if (typeof id !== 'string' || id === '' || ids.has(id) || !isSuffrage(suffrage)) return false;
    ids.add(id);
  }
  return votersOf(config).length > 0;
}

function isSuffrage(value: unknown): value is Suffrage {
  return value === 'voter' || value === 'nonvoter' || value === 'staging';
}
