import { decodeMulti, encode } from '@msgpack/msgpack';
import { describe, expect, it } from 'vitest';
import { decodeProposal, type EntryInput, encodeProposal } from '../../src/binding/proposal.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import type { Entry } from '../../src/core/types.js';
import type { RaftError } from '../../src/errors.js';
import { bytes, setInput, snapshotChunks } from '../support/fsm-helpers.js';

let index = 0;
function entry(seq: number, input: EntryInput): Entry {
  index += 1;
  return { index, term: 1, type: 'command', data: encodeProposal({ member: 'm', seq, input }) };
}

async function* stream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/** The msgpack records of a snapshot. */
function records(chunks: readonly Uint8Array[]): unknown[] {
  return [...decodeMulti(new Uint8Array(Buffer.concat(chunks)))];
}

describe('group settings in the FSM', () => {
  it('encodes a setting as {o: "setting", k, v} and decodes it back', () => {
    const input: EntryInput = { op: 'setting', key: 'voters', value: bytes('3') };
    const data = encodeProposal({ member: 'm', seq: 1, ack: 0, input });
    expect(data).toEqual(encode({ m: 'm', s: 1, a: 0, i: { o: 'setting', k: 'voters', v: bytes('3') } }));
    expect(decodeProposal(data)).toEqual({ member: 'm', seq: 1, ack: 0, input });
  });

  it('applies a setting once, never shows it to observers or in the state, and snapshots it', async () => {
    const fsm = new RaftFsm();
    const seen: string[] = [];
    const iterator = fsm.observe();
    fsm.apply(entry(1, setInput('k', 'v')));
    expect(fsm.apply(entry(2, { op: 'setting', key: 'voters', value: bytes('3') }))).toEqual({
      outcome: 'applied',
    });
    // A re-sent proposal (same session and seq) changes nothing.
    expect(fsm.apply(entry(2, { op: 'setting', key: 'voters', value: bytes('5') }))).toEqual({
      outcome: 'duplicate',
    });
    fsm.apply(entry(3, setInput('k2', 'v2')));
    fsm.closeObservers();
    for await (const change of iterator) seen.push(change.key);
    expect(seen).toEqual(['k', 'k2']);
    expect([...fsm.entries().keys()]).toEqual(['k', 'k2']);
    expect(fsm.setting('voters')).toEqual(bytes('3'));

    const chunks = await snapshotChunks(fsm);
    const [header, ...rest] = records(chunks);
    expect(header).toEqual(['mqtt-raft/kv', 2, 2, 1, 1]);
    expect(rest.at(-1)).toEqual(['voters', bytes('3')]);
    const copy = new RaftFsm();
    copy.apply(entry(1, { op: 'setting', key: 'stale', value: bytes('x') }));
    await copy.restore(stream(chunks));
    expect(copy.setting('voters')).toEqual(bytes('3'));
    expect(copy.setting('stale')).toBeUndefined();
    expect(copy.entries()).toEqual(fsm.entries());
  });

  it('captures the settings with the state, in key order, as copies', () => {
    const fsm = new RaftFsm();
    fsm.apply(entry(1, setInput('k', 'v')));
    fsm.apply(entry(2, { op: 'setting', key: 'voters', value: bytes('3') }));
    fsm.apply(entry(3, { op: 'setting', key: 'eligible/b', value: bytes('1') }));
    const capture = fsm.capture();
    expect(capture.index).toBe(fsm.appliedIndex);
    expect([...capture.state]).toEqual([['k', bytes('v')]]);
    expect([...capture.settings]).toEqual([
      ['eligible/b', bytes('1')],
      ['voters', bytes('3')],
    ]);
    capture.settings.get('voters')?.fill(0);
    expect(fsm.setting('voters')).toEqual(bytes('3'));
    expect(new RaftFsm().capture().settings.size).toBe(0);
  });

  it('writes a state without settings as version 1, as before settings existed', async () => {
    const fsm = new RaftFsm();
    fsm.apply(entry(1, setInput('k', 'v')));
    const [header] = records(await snapshotChunks(fsm));
    expect(header).toEqual(['mqtt-raft/kv', 1, 1, 1]);
  });

  it.each([
    ['version 2 without settings', [['mqtt-raft/kv', 2, 0, 0, 0]]],
    [
      'version 1 with a settings count',
      [
        ['mqtt-raft/kv', 1, 0, 0, 1],
        ['voters', bytes('3')],
      ],
    ],
    [
      'settings out of order',
      [
        ['mqtt-raft/kv', 2, 0, 0, 2],
        ['b', bytes('1')],
        ['a', bytes('1')],
      ],
    ],
    [
      'a missing setting',
      [
        ['mqtt-raft/kv', 2, 0, 0, 2],
        ['a', bytes('1')],
      ],
    ],
  ])('refuses a snapshot with %s as CORRUPTION', async (_name, recs) => {
    const chunks = recs.map((r) => encode(r));
    const error = await new RaftFsm().restore(stream(chunks)).then(
      () => null,
      (err: RaftError) => err,
    );
    expect(error?.code).toBe('CORRUPTION');
  });
});
