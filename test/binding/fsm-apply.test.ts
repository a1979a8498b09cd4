import { describe, expect, it } from 'vitest';
import { DEDUPE_MAX_SESSIONS, DEDUPE_WINDOW } from '../../src/binding/dedupe-table.js';
import type { Input } from '../../src/binding/input.js';
import { encodeProposal } from '../../src/binding/proposal.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import type { Entry } from '../../src/core/types.js';
import { isRaftError } from '../../src/errors.js';
import { bytes, deleteInput, setInput, snapshotChunks } from '../support/fsm-helpers.js';

const text = (data: Uint8Array | undefined) =>
  data === undefined ? undefined : new TextDecoder().decode(data);

/** Builds committed entries with increasing indexes, as the log would hand them to the FSM. */
class Log {
  private index = 0;
  entry(member: string, seq: number, input: Input): Entry {
    this.index += 1;
    return { index: this.index, term: 1, type: 'command', data: encodeProposal({ member, seq, input }) };
  }
}

const set = setInput;
const del = deleteInput;

async function* stream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

async function snapshotBytesOf(fsm: RaftFsm): Promise<Uint8Array> {
  return Buffer.concat(await snapshotChunks(fsm));
}

describe('RaftFsm.apply', () => {
  it('applies sets and deletes and tracks the applied index', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    expect(fsm.appliedIndex).toBe(0);
    expect(fsm.apply(log.entry('m', 1, set('b', '1')))).toEqual({ duplicate: false });
    fsm.apply(log.entry('m', 2, set('a', '2')));
    fsm.apply(log.entry('m', 3, set('b', '3')));
    expect(text(fsm.get('b'))).toBe('3');
    expect([...fsm.entries().keys()]).toEqual(['a', 'b']);
    expect(fsm.apply(log.entry('m', 4, del('b')))).toEqual({ duplicate: false });
    expect(fsm.get('b')).toBeUndefined();
    expect(fsm.apply(log.entry('m', 5, del('missing')))).toEqual({ duplicate: false });
    expect(fsm.appliedIndex).toBe(5);
    expect(fsm.lastApplied).toEqual({ index: 4, input: del('b') });
  });

  it('hands out copies: callers cannot change the state', () => {
    const fsm = new RaftFsm();
    fsm.apply(new Log().entry('m', 1, set('k', 'v')));
    const got = fsm.get('k');
    got?.fill(0);
    const all = fsm.entries().get('k');
    all?.fill(0);
    expect(text(fsm.get('k'))).toBe('v');
  });

  it('throws CORRUPTION on an entry that is not a proposal, changing nothing', () => {
    const fsm = new RaftFsm();
    let error: unknown;
    try {
      fsm.apply({ index: 1, term: 1, type: 'command', data: bytes('x=1') });
    } catch (err) {
      error = err;
    }
    expect(isRaftError(error, 'CORRUPTION')).toBe(true);
    expect(fsm.appliedIndex).toBe(0);
  });

  it('rejects a bad observerQueueLimit', () => {
    expect(() => new RaftFsm({ observerQueueLimit: 0 })).toThrow(/observerQueueLimit/);
  });
});

describe('RaftFsm dedupe', () => {
  it('applies the same (member, seq) once', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    expect(fsm.apply(log.entry('m', 1, set('k', 'first')))).toEqual({ duplicate: false });
    fsm.apply(log.entry('other', 1, set('k', 'other')));
    expect(fsm.apply(log.entry('m', 1, set('k', 'first')))).toEqual({ duplicate: true });
    expect(text(fsm.get('k'))).toBe('other');
    expect(fsm.appliedIndex).toBe(3);
  });

  it('applies the same seq from different members', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    expect(fsm.apply(log.entry('a', 1, set('a', '1')))).toEqual({ duplicate: false });
    expect(fsm.apply(log.entry('b', 1, set('b', '1')))).toEqual({ duplicate: false });
    expect(fsm.entries().size).toBe(2);
  });

  it('applies out-of-order seqs of one member, and dedupes each', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    for (const seq of [3, 1, 5, 2, 4])
      expect(fsm.apply(log.entry('m', seq, set(`k${seq}`, 'v')))).toEqual({ duplicate: false });
    for (const seq of [1, 2, 3, 4, 5])
      expect(fsm.apply(log.entry('m', seq, set('dup', 'v')))).toEqual({ duplicate: true });
    expect(fsm.entries().size).toBe(5);
    // Contiguous seqs fold into the floor: nothing is left to remember.
    expect(fsm.dedupeStats()).toEqual({ sessions: 1, seqs: 0 });
  });

  it('stays bounded: 50k proposals from one member, in and out of order', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    for (let seq = 1; seq <= 50_000; seq++) fsm.apply(log.entry('steady', seq, set('k', String(seq))));
    expect(fsm.dedupeStats()).toEqual({ sessions: 1, seqs: 0 });
    // Seq 1 of "gappy" never arrives; every other odd seq is skipped too.
    for (let seq = 2; seq <= 50_000; seq += 2) fsm.apply(log.entry('gappy', seq, set('g', String(seq))));
    expect(fsm.dedupeStats().seqs).toBeLessThanOrEqual(DEDUPE_WINDOW);
    // Recent seqs are still recognised...
    expect(fsm.apply(log.entry('gappy', 50_000, set('g', 'again')))).toEqual({ duplicate: true });
    // ...and so are old ones, now below the floor: at most once is the safe side.
    expect(fsm.apply(log.entry('gappy', 2, set('g', 'again')))).toEqual({ duplicate: true });
    // A gap inside the window is still applied once it arrives.
    expect(fsm.apply(log.entry('gappy', 49_999, set('late', 'v')))).toEqual({ duplicate: false });
  });

  it('stays bounded: 20k members, least recently used forgotten first', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    fsm.apply(log.entry('member-0', 1, set('k', '0')));
    for (let m = 1; m < 20_000; m++) {
      fsm.apply(log.entry(`member-${m}`, 1, set('k', String(m))));
      // member-0 keeps proposing, so it stays among the recently used.
      if (m % 1000 === 0) fsm.apply(log.entry('member-0', m, set('keep', String(m))));
    }
    expect(fsm.dedupeStats().sessions).toBe(DEDUPE_MAX_SESSIONS);
    expect(fsm.apply(log.entry('member-0', 1, set('k', 'retry')))).toEqual({ duplicate: true });
    expect(fsm.apply(log.entry('member-19999', 1, set('k', 'retry')))).toEqual({ duplicate: true });
    // member-1 was evicted long ago: its retry is taken for a new proposal.
    expect(fsm.apply(log.entry('member-1', 1, set('k', 'retry')))).toEqual({ duplicate: false });
    expect(fsm.dedupeStats().sessions).toBe(DEDUPE_MAX_SESSIONS);
  });

  it('is deterministic: a replica restored from a snapshot halfway decides and snapshots as one fed everything', async () => {
    const entries: Entry[] = [];
    const log = new Log();
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 30_000; i++) {
      const member = `m${next() % 12_000}`;
      const seq = (next() % 3000) + 1;
      const key = `key-${next() % 500}`;
      entries.push(log.entry(member, seq, next() % 5 === 0 ? del(key) : set(key, String(i))));
    }
    const half = 15_000;
    // `whole` applies every entry; `first` only the first half, and its snapshot seeds `restored`.
    const whole = new RaftFsm();
    const wholeResults = entries.map((e) => whole.apply(e).duplicate);
    const first = new RaftFsm();
    for (const e of entries.slice(0, half)) first.apply(e);
    const restored = new RaftFsm();
    await restored.restore(stream(await snapshotChunks(first)));
    restored.restoredAt(half);
    const restoredResults = entries.slice(half).map((e) => restored.apply(e).duplicate);
    // The dedupe table travels in the snapshot: the restored replica takes the same decisions,
    // some of them duplicates of proposals it only knows from the snapshot.
    expect(restoredResults).toEqual(wholeResults.slice(half));
    expect(restoredResults).toContain(true);
    expect(wholeResults.slice(0, half)).toContain(true);
    const [snapWhole, snapRestored] = await Promise.all([snapshotBytesOf(whole), snapshotBytesOf(restored)]);
    expect(snapRestored.length).toBeGreaterThan(0);
    expect(Buffer.compare(snapRestored, snapWhole)).toBe(0);
  });
});
