import { encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { MAX_KEY_LENGTH, MAX_VALUE_BYTES, parseInput } from '../../src/binding/input.js';
import { decodeProposal, encodeProposal, type Proposal } from '../../src/binding/proposal.js';
import { isRaftError } from '../../src/errors.js';
import { bytes } from '../support/fsm-helpers.js';

/** The RaftError thrown by `fn`, asserting its code. */
function raftError(fn: () => unknown, code: 'INVALID_INPUT' | 'CORRUPTION'): string {
  try {
    fn();
  } catch (err) {
    if (!isRaftError(err, code)) throw err;
    return err.message;
  }
  throw new Error('expected a RaftError');
}

describe('parseInput', () => {
  it('accepts a set and a delete, returning a fresh object', () => {
    const set = { op: 'set', key: 'k', value: bytes('v') } as const;
    const parsed = parseInput(set);
    expect(parsed).toEqual(set);
    expect(parsed).not.toBe(set);
    expect(parseInput({ op: 'delete', key: 'k' })).toEqual({ op: 'delete', key: 'k' });
    expect(
      parseInput({ op: 'set', key: 'x'.repeat(MAX_KEY_LENGTH), value: new Uint8Array(MAX_VALUE_BYTES) }).key,
    ).toHaveLength(MAX_KEY_LENGTH);
  });

  it('accepts a Buffer value and keys with paired surrogates', () => {
    expect(parseInput({ op: 'set', key: 'emoji-\u{1F600}', value: Buffer.from('v') }).key).toBe(
      'emoji-\u{1F600}',
    );
  });

  it.each([
    ['not an object', null, 'input: must be an object'],
    ['a string', 'set k v', 'input: must be an object'],
    ['an unknown op', { op: 'put', key: 'k', value: bytes('v') }, 'op: must be "set" or "delete"'],
    ['a missing op', { key: 'k' }, 'op: must be "set" or "delete"'],
    ['an empty key', { op: 'set', key: '', value: bytes('v') }, 'key: must not be empty'],
    ['a missing key', { op: 'delete' }, 'key: must be a string'],
    ['a number key', { op: 'delete', key: 7 }, 'key: must be a string'],
    [
      'a long key',
      { op: 'delete', key: 'k'.repeat(MAX_KEY_LENGTH + 1) },
      `key: must be at most ${MAX_KEY_LENGTH} characters`,
    ],
    [
      'a lone surrogate',
      { op: 'delete', key: 'a\ud800' },
      'key: must be well-formed Unicode (no lone surrogates)',
    ],
    ['a string value', { op: 'set', key: 'k', value: 'v' }, 'value: must be a Uint8Array'],
    ['a number array value', { op: 'set', key: 'k', value: [1, 2] }, 'value: must be a Uint8Array'],
    ['a missing value', { op: 'set', key: 'k' }, 'value: must be a Uint8Array'],
    [
      'an oversized value',
      { op: 'set', key: 'k', value: new Uint8Array(MAX_VALUE_BYTES + 1) },
      `value: must be at most ${MAX_VALUE_BYTES} bytes`,
    ],
    [
      'a value on a delete',
      { op: 'delete', key: 'k', value: bytes('v') },
      'value: is not a field of this op',
    ],
    [
      'an unknown field',
      { op: 'set', key: 'k', value: bytes('v'), ttl: 5 },
      'ttl: is not a field of this op',
    ],
  ])('rejects %s with INVALID_INPUT naming the field', (_name, input, message) => {
    expect(raftError(() => parseInput(input), 'INVALID_INPUT')).toBe(message);
  });
});

describe('the proposal codec', () => {
  it('round-trips sets and deletes', () => {
    const proposals: Proposal[] = [
      { member: 'm-1', seq: 1, ack: 0, input: { op: 'set', key: 'k', value: bytes('value') } },
      {
        member: 'm-1',
        seq: Number.MAX_SAFE_INTEGER,
        ack: Number.MAX_SAFE_INTEGER,
        input: { op: 'set', key: 'empty', value: new Uint8Array() },
      },
      { member: 'm-2', seq: 9, ack: 4, input: { op: 'delete', key: 'k\u{1F600}' } },
    ];
    for (const p of proposals) expect(decodeProposal(encodeProposal(p))).toEqual(p);
  });

  it('encodes as msgpack {m, s, a, i: {o, k, v?}}', () => {
    const data = encodeProposal({ member: 'm', seq: 3, ack: 2, input: { op: 'delete', key: 'k' } });
    expect(data).toEqual(encode({ m: 'm', s: 3, a: 2, i: { o: 'delete', k: 'k' } }));
  });

  it('reads an entry without an acknowledgement as acknowledging nothing', () => {
    const data = encode({ m: 'm', s: 3, i: { o: 'delete', k: 'k' } });
    expect(decodeProposal(data)).toEqual({ member: 'm', seq: 3, ack: 0, input: { op: 'delete', key: 'k' } });
  });

  // A transcript: each damaged entry and the exact problem the decoder names for it.
  const d = { o: 'delete', k: 'k' };
  it.each([
    ['empty data', new Uint8Array(), /^proposal: not msgpack \(.+\)$/],
    ['random bytes', Uint8Array.from([0xc1, 0xff, 0x00, 0x13]), /^proposal: not msgpack \(.+\)$/],
    [
      'a truncated proposal',
      encodeProposal({ member: 'm', seq: 1, input: { op: 'delete', key: 'k' } }).subarray(0, 5),
      /^proposal: not msgpack \(.+\)$/,
    ],
    ['a plain string', encode('hello'), 'proposal: entry: expected a map'],
    ['an array', encode(['m', 1, d]), 'proposal: entry: expected a map'],
    ['a missing member', encode({ s: 1, i: d }), 'proposal: m: expected a non-empty string'],
    ['an empty member', encode({ m: '', s: 1, i: d }), 'proposal: m: expected a non-empty string'],
    ['a zero seq', encode({ m: 'm', s: 0, i: d }), 'proposal: s: expected a positive safe integer'],
    ['a fractional seq', encode({ m: 'm', s: 1.5, i: d }), 'proposal: s: expected a positive safe integer'],
    [
      'a seq beyond safe integers',
      encode({ m: 'm', s: 2 ** 60, i: d }),
      'proposal: s: expected a positive safe integer',
    ],
    ['a seq that is text', encode({ m: 'm', s: '1', i: d }), 'proposal: s: expected a positive safe integer'],
    [
      'a negative ack',
      encode({ m: 'm', s: 1, a: -1, i: d }),
      'proposal: a: expected a non-negative safe integer',
    ],
    [
      'a fractional ack',
      encode({ m: 'm', s: 1, a: 0.5, i: d }),
      'proposal: a: expected a non-negative safe integer',
    ],
    [
      'an ack that is not a number',
      encode({ m: 'm', s: 1, a: '1', i: d }),
      'proposal: a: expected a non-negative safe integer',
    ],
    ['an input that is not a map', encode({ m: 'm', s: 1, i: 'delete k' }), 'proposal: i: expected a map'],
    [
      'an input that is an array',
      encode({ m: 'm', s: 1, i: ['delete', 'k'] }),
      'proposal: i: expected a map',
    ],
    [
      'an empty key',
      encode({ m: 'm', s: 1, i: { o: 'delete', k: '' } }),
      'proposal: i.k: expected a non-empty string',
    ],
    [
      'an unknown op',
      encode({ m: 'm', s: 1, i: { o: 'put', k: 'k' } }),
      'proposal: i.o: expected "set", "delete" or "setting"',
    ],
    [
      'a set without bytes',
      encode({ m: 'm', s: 1, i: { o: 'set', k: 'k', v: 'text' } }),
      'proposal: i.v: expected bytes',
    ],
    [
      'a setting without bytes',
      encode({ m: 'm', s: 1, i: { o: 'setting', k: 'k' } }),
      'proposal: i.v: expected bytes',
    ],
  ])('rejects %s as CORRUPTION, naming the problem', (_name, data, message) => {
    expect(raftError(() => decodeProposal(data), 'CORRUPTION')).toMatch(message);
  });

  it('keeps the decoder error as the cause of a proposal that is not msgpack', () => {
    let caught: unknown;
    try {
      decodeProposal(Uint8Array.from([0xc1]));
    } catch (err) {
      caught = err;
    }
    expect((caught as Error).cause).toBeInstanceOf(Error);
  });

  it('accepts an ack of 0 and a seq of 1, the smallest of each', () => {
    expect(decodeProposal(encode({ m: 'm', s: 1, a: 0, i: d }))).toEqual({
      member: 'm',
      seq: 1,
      ack: 0,
      input: { op: 'delete', key: 'k' },
    });
  });
});
