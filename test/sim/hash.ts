import type { Entry } from '../../src/core/index.js';

const FNV_PRIME = 16777619;

/** FNV-1a over a string, continuing from `seed`; 32 bits. */
function fnv(text: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h;
}

/** A printable identity of an entry: its term, type and data. Workload data is unique per proposal. */
export function entryIdentity(entry: Entry): string {
  return `${entry.term}/${entry.type}/${new TextDecoder().decode(entry.data)}`;
}

/**
 * The chained hash of a log position: it covers the entry and, through `previous`, every entry
 * before it. Two logs with the same chained hash at an index agree on the whole prefix, which
 * turns Log Matching into one comparison per entry.
 */
export function chainHash(previous: string, entry: Entry): string {
  const text = `${previous}|${entry.index}|${entryIdentity(entry)}`;
  return `${fnv(text, 2166136261).toString(36)}.${fnv(text, 0x811c9dc5 ^ 0x5bd1e995).toString(36)}`;
}

/** The chain value before the first entry (and of an empty snapshot). */
export const GENESIS = 'genesis';
