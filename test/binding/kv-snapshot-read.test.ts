import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { readKvSnapshot } from '../../src/binding/kv-snapshot.js';
import { RaftError } from '../../src/errors.js';
import { bytes } from '../support/fsm-helpers.js';

const H = 'mqtt-raft/kv';

/** Each record as one chunk; `size` recuts the whole stream into chunks of that many bytes. */
async function* chunksOf(records: readonly unknown[], size?: number): AsyncGenerator<Uint8Array> {
  const all = Buffer.concat(records.map((r) => encode(r)));
  if (size === undefined) {
    for (const r of records) yield encode(r);
    return;
  }
  for (let at = 0; at < all.length; at += size) yield all.subarray(at, at + size);
}

async function readError(chunks: AsyncIterable<Uint8Array>): Promise<RaftError> {
  const error = await readKvSnapshot(chunks).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(RaftError);
  return error as RaftError;
}

/**
 * A transcript of damaged snapshots: each breaks exactly one rule of the format, and the reader
 * must name that rule. Every other record is valid, so a check that is skipped lets it through.
 */
const DAMAGED: Array<[string, unknown[], string]> = [
  ['no records at all', [], 'no key-value snapshot header'],
  ['a header that is no array', ['mqtt-raft/kv'], 'no key-value snapshot header'],
  ['another format', [['other', 1, 0, 0]], 'no key-value snapshot header'],
  ['version 3', [[H, 3, 0, 0]], 'unsupported version 3'],
  ['version 1 with five fields', [[H, 1, 0, 0, 0]], 'bad header'],
  ['version 2 with four fields', [[H, 2, 0, 0]], 'bad header'],
  ['a negative key count', [[H, 1, -1, 0]], 'bad record counts'],
  ['a fractional session count', [[H, 1, 0, 0.5]], 'bad record counts'],
  ['a setting count that is no number', [[H, 2, 0, 0, 'x']], 'bad record counts'],
  ['version 2 without settings', [[H, 2, 0, 0, 0]], 'version 2 without settings'],
  ['a missing key record', [[H, 1, 1, 0]], 'truncated: missing key records'],
  ['a key record that is no array', [[H, 1, 1, 0], 'a'], 'bad key record'],
  [
    'a key record of three fields',
    [
      [H, 1, 1, 0],
      ['a', bytes('1'), 1],
    ],
    'bad key record 0',
  ],
  [
    'a numeric key',
    [
      [H, 1, 1, 0],
      [7, bytes('1')],
    ],
    'bad key record 0',
  ],
  [
    'an empty key',
    [
      [H, 1, 1, 0],
      ['', bytes('1')],
    ],
    'bad key record 0',
  ],
  [
    'a text value',
    [
      [H, 1, 1, 0],
      ['a', '1'],
    ],
    'bad key record 0',
  ],
  [
    'a repeated key',
    [
      [H, 1, 2, 0],
      ['a', bytes('1')],
      ['a', bytes('2')],
    ],
    'key record 1 out of order',
  ],
  [
    'keys out of order',
    [
      [H, 1, 2, 0],
      ['b', bytes('1')],
      ['a', bytes('2')],
    ],
    'key record 1 out of order',
  ],
  ['a missing session', [[H, 1, 0, 1]], 'truncated: missing session records'],
  [
    'a session of two fields',
    [
      [H, 1, 0, 1],
      ['m', 0],
    ],
    'bad session record 0',
  ],
  [
    'a numeric member',
    [
      [H, 1, 0, 1],
      [5, 0, []],
    ],
    'bad session record 0',
  ],
  [
    'an empty member',
    [
      [H, 1, 0, 1],
      ['', 0, []],
    ],
    'bad session record 0',
  ],
  [
    'a member twice',
    [
      [H, 1, 0, 2],
      ['m', 0, []],
      ['m', 1, []],
    ],
    'bad session record 1',
  ],
  [
    'a negative floor',
    [
      [H, 1, 0, 1],
      ['m', -1, []],
    ],
    'bad seqs in session record 0',
  ],
  [
    'seqs that are no array',
    [
      [H, 1, 0, 1],
      ['m', 0, 3],
    ],
    'bad seqs in session record 0',
  ],
  [
    'a seq at the floor',
    [
      [H, 1, 0, 1],
      ['m', 3, [3]],
    ],
    'bad seqs in session record 0',
  ],
  [
    'a repeated seq',
    [
      [H, 1, 0, 1],
      ['m', 0, [2, 2]],
    ],
    'bad seqs in session record 0',
  ],
  [
    'a fractional seq',
    [
      [H, 1, 0, 1],
      ['m', 0, [1.5]],
    ],
    'bad seqs in session record 0',
  ],
  ['a missing setting', [[H, 2, 0, 0, 1]], 'truncated: missing setting records'],
  [
    'a text setting',
    [
      [H, 2, 0, 0, 1],
      ['voters', '3'],
    ],
    'bad setting record 0',
  ],
  [
    'settings out of order',
    [
      [H, 2, 0, 0, 2],
      ['b', bytes('1')],
      ['a', bytes('1')],
    ],
    'setting record 1 out of order',
  ],
  ['a record after the last', [[H, 1, 0, 0], ['extra']], 'data after the last record'],
];

describe('reading a key-value snapshot', () => {
  it.each(DAMAGED)('refuses %s', async (_name, records, message) => {
    const error = await readError(chunksOf(records));
    expect(error.code).toBe('CORRUPTION');
    expect(error.message).toBe(`snapshot: ${message}`);
  });

  it('reads every part of a version 2 snapshot, records spanning chunks of 3 bytes', async () => {
    const records = [
      [H, 2, 2, 2, 1],
      ['a', bytes('1')],
      ['b', bytes('')],
      ['m', 0, []],
      ['n', 4, [5, 9]],
      ['voters', bytes('3')],
    ];
    const state = await readKvSnapshot(chunksOf(records, 3));
    expect([...state.entries]).toEqual([
      ['a', bytes('1')],
      ['b', bytes('')],
    ]);
    expect(state.sessions).toEqual([
      { member: 'm', floor: 0, seqs: [] },
      { member: 'n', floor: 4, seqs: [5, 9] },
    ]);
    expect([...state.settings]).toEqual([['voters', bytes('3')]]);
  });

  it('reads an empty version 1 snapshot as no entries, sessions or settings', async () => {
    const state = await readKvSnapshot(chunksOf([[H, 1, 0, 0]]));
    expect(state.entries.size).toBe(0);
    expect(state.sessions).toEqual([]);
    expect(state.settings.size).toBe(0);
  });

  it('wraps bytes that are no msgpack as CORRUPTION, keeping the decoder error as the cause', async () => {
    const error = await readError(
      (async function* () {
        yield Uint8Array.from([0xc1]);
      })(),
    );
    expect(error.code).toBe('CORRUPTION');
    expect(error.message).toMatch(/^snapshot: not a key-value snapshot \(.+\)$/);
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.cause).not.toBeInstanceOf(RaftError);
  });

  it('passes a RaftError of the source through unchanged, whatever its code', async () => {
    const failure = new RaftError('CORRUPTION', 'store: bad checksum');
    const other = new RaftError('UNREACHABLE', 'leader went away');
    for (const thrown of [failure, other]) {
      const error = await readError(
        (async function* () {
          yield encode([H, 1, 1, 0]);
          throw thrown;
        })(),
      );
      expect(error).toBe(thrown);
    }
  });

  it('passes a plain error of the source through unchanged rather than calling it corruption', async () => {
    const failure = new Error('disk unplugged');
    const error = await readKvSnapshot(
      (async function* () {
        yield encode([H, 1, 1, 0]);
        throw failure;
      })(),
    ).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBe(failure);
  });

  it('releases the source when it stops early on corruption', async () => {
    let released = false;
    async function* source(): AsyncGenerator<Uint8Array> {
      try {
        yield encode(['other', 1, 0, 0]);
        yield encode(['never', 'read']);
      } finally {
        released = true;
      }
    }
    const error = await readError(source());
    expect(error.message).toBe('snapshot: no key-value snapshot header');
    expect(released).toBe(true);
  });
});
