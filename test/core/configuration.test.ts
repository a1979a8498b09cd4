import { describe, expect, it } from 'vitest';
import {
  type Configuration,
  decodeConfiguration,
  EMPTY_CONFIGURATION,
  encodeConfiguration,
  isVoter,
  sameConfiguration,
  suffrageOf,
  votersOf,
  withoutServer,
  withServer,
} from '../../src/core/index.js';

const mixed: Configuration = {
  servers: [
    { id: 'a', suffrage: 'voter' },
    { id: 'b', suffrage: 'nonvoter' },
    { id: 'c', suffrage: 'voter' },
    { id: 'd', suffrage: 'staging' },
  ],
};

const bytes = (text: string) => new TextEncoder().encode(text);

describe('votersOf / suffrageOf / isVoter', () => {
  it('lists only voters, in configuration order', () => {
    expect(votersOf(mixed)).toEqual(['a', 'c']);
    expect(votersOf(EMPTY_CONFIGURATION)).toEqual([]);
  });

  it('reports the suffrage of members and undefined for strangers', () => {
    expect(suffrageOf(mixed, 'b')).toBe('nonvoter');
    expect(suffrageOf(mixed, 'd')).toBe('staging');
    expect(suffrageOf(mixed, 'z')).toBeUndefined();
    expect(isVoter(mixed, 'a')).toBe(true);
    expect(isVoter(mixed, 'b')).toBe(false);
    expect(isVoter(mixed, 'd')).toBe(false);
    expect(isVoter(mixed, 'z')).toBe(false);
  });
});

describe('withServer / withoutServer', () => {
  it('adds a new server at the end without changing the original', () => {
    const next = withServer(mixed, { id: 'e', suffrage: 'nonvoter' });
    expect(next.servers.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(suffrageOf(next, 'e')).toBe('nonvoter');
    expect(mixed.servers).toHaveLength(4);
  });

  it('replaces the suffrage of an existing server in place', () => {
    const next = withServer(mixed, { id: 'd', suffrage: 'voter' });
    expect(next.servers.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(votersOf(next)).toEqual(['a', 'c', 'd']);
    expect(suffrageOf(mixed, 'd')).toBe('staging');
  });

  it('removes a server, and removing a stranger changes nothing', () => {
    const next = withoutServer(mixed, 'a');
    expect(next.servers.map((s) => s.id)).toEqual(['b', 'c', 'd']);
    expect(votersOf(next)).toEqual(['c']);
    expect(mixed.servers).toHaveLength(4);
    expect(sameConfiguration(withoutServer(mixed, 'z'), mixed)).toBe(true);
  });
});

describe('sameConfiguration', () => {
  it('ignores order', () => {
    const reversed: Configuration = { servers: [...mixed.servers].reverse() };
    expect(sameConfiguration(mixed, reversed)).toBe(true);
  });

  it('notices a different suffrage, a missing server or a different server', () => {
    expect(sameConfiguration(mixed, withServer(mixed, { id: 'b', suffrage: 'voter' }))).toBe(false);
    expect(sameConfiguration(mixed, withoutServer(mixed, 'c'))).toBe(false);
    expect(sameConfiguration(withoutServer(mixed, 'c'), mixed)).toBe(false);
    const swapped = withServer(withoutServer(mixed, 'c'), { id: 'x', suffrage: 'voter' });
    expect(sameConfiguration(mixed, swapped)).toBe(false);
  });

  it('holds for two empty configurations', () => {
    expect(sameConfiguration(EMPTY_CONFIGURATION, { servers: [] })).toBe(true);
  });
});

describe('encodeConfiguration / decodeConfiguration', () => {
  it('round-trips every suffrage and the order of servers', () => {
    expect(decodeConfiguration(encodeConfiguration(mixed))).toEqual(mixed);
    expect(decodeConfiguration(encodeConfiguration(EMPTY_CONFIGURATION))).toEqual(EMPTY_CONFIGURATION);
  });

  it('round-trips ids with unusual characters', () => {
    const odd: Configuration = {
      servers: [
        { id: 'node/1"quoted"', suffrage: 'voter' },
        { id: 'ünïcødé ✓', suffrage: 'staging' },
      ],
    };
    expect(decodeConfiguration(encodeConfiguration(odd))).toEqual(odd);
  });

  it.each([
    ['bytes that are not JSON', 'not json'],
    ['a JSON object instead of a list', '{"servers":[]}'],
    ['a server that is not a pair', '["a"]'],
    ['a server without suffrage', '[["a"]]'],
    ['a non-string id', '[[1,"voter"]]'],
    ['an unknown suffrage', '[["a","king"]]'],
    ['one malformed server among good ones', '[["a","voter"],["b",null]]'],
    ['null', 'null'],
  ])('rejects %s', (_what, text) => {
    expect(() => decodeConfiguration(bytes(text))).toThrow();
  });
});
