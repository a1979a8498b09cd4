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
  entry(member: string, seq: number, input: Input, ack = 0): Entry {
    this.index += 1;
    return { index: this.index, term: 1, type: 'command', data: encodeProposal({ member, seq, ack, input }) };
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
    expect(fsm.apply(log.entry('m', 1, set('b', '1')))).toEqual({ outcome: 'applied' });
    fsm.apply(log.entry('m', 2, set('a', '2')));
    fsm.apply(log.entry('m', 3, set('b', '3')));
    expect(text(fsm.get('b'))).toBe('3');
    expect([...fsm.entries().keys()]).toEqual(['a', 'b']);
    expect(fsm.apply(log.entry('m', 4, del('b')))).toEqual({ outcome: 'applied' });
    expect(fsm.get('b')).toBeUndefined();
    expect(fsm.apply(log.entry('m', 5, del('missing')))).toEqual({ outcome: 'applied' });
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
    expect(fsm.apply(log.entry('m', 1, set('k', 'first')))).toEqual({ outcome: 'applied' });
    fsm.apply(log.entry('other', 1, set('k', 'other')));
    expect(fsm.apply(log.entry('m', 1, set('k', 'first')))).toEqual({ outcome: 'duplicate' });
    expect(text(fsm.get('k'))).toBe('other');
    expect(fsm.appliedIndex).toBe(3);
  });

  it('applies the same seq from different members', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    expect(fsm.apply(log.entry('a', 1, set('a', '1')))).toEqual({ outcome: 'applied' });
    expect(fsm.apply(log.entry('b', 1, set('b', '1')))).toEqual({ outcome: 'applied' });
    expect(fsm.entries().size).toBe(2);
  });

  it('applies out-of-order seqs of one member, and dedupes each', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    for (const seq of [3, 1, 5, 2, 4])
      expect(fsm.apply(log.entry('m', seq, set(`k${seq}`, 'v')))).toEqual({ outcome: 'applied' });
    for (const seq of [1, 2, 3, 4, 5])
      expect(fsm.apply(log.entry('m', seq, set('dup', 'v')))).toEqual({ outcome: 'duplicate' });
    expect(fsm.entries().size).toBe(5);
    // Nothing is acknowledged yet: every applied seq may still be retried, so all are remembered.
    expect(fsm.dedupeStats()).toEqual({ sessions: 1, seqs: 5 });
  });

  it('forgets what the proposer acknowledged, and refuses it from then on', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    for (const seq of [1, 2, 3]) fsm.apply(log.entry('m', seq, set(`k${seq}`, 'v')));
    // Seq 5 says the proposer waits for nothing below 4 any more.
    expect(fsm.apply(log.entry('m', 5, set('k5', 'v'), 4))).toEqual({ outcome: 'applied' });
    expect(fsm.dedupeStats()).toEqual({ sessions: 1, seqs: 1 });
    // A late copy of seq 2 (or a seq 4 nobody waits for any more) is never applied, nor called applied.
    expect(fsm.apply(log.entry('m', 2, set('k2', 'late')))).toEqual({ outcome: 'expired' });
    expect(text(fsm.get('k2'))).toBe('v');
    // Seq 4 is still in flight (the acknowledgement is the lowest seq waited for): it applies.
    expect(fsm.apply(log.entry('m', 4, set('k4', 'v'), 4))).toEqual({ outcome: 'applied' });
    expect(fsm.apply(log.entry('m', 5, set('k5', 'again'), 4))).toEqual({ outcome: 'duplicate' });
  });

  it('refuses a seq beyond the window over its acknowledgement', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    expect(fsm.apply(log.entry('m', DEDUPE_WINDOW + 1, set('far', 'v')))).toEqual({ outcome: 'expired' });
    expect(fsm.get('far')).toBeUndefined();
    expect(fsm.apply(log.entry('m', DEDUPE_WINDOW, set('edge', 'v')))).toEqual({ outcome: 'applied' });
  });

  it('stays bounded: 50k proposals from one member that acknowledges as it goes', () => {
    const fsm = new RaftFsm();
    const log = new Log();
    // Eight calls in flight at a time: each proposal acknowledges all but the last eight seqs.
    for (let seq = 1; seq <= 50_000; seq++)
      fsm.apply(log.entry('steady', seq, set('k', String(seq)), Math.max(0, seq - 7)));
    expect(fsm.dedupeStats()).toEqual({ sessions: 1, seqs: 8 });
    // Recent seqs are still recognised; old ones are refused, never applied again.
    expect(fsm.apply(log.entry('steady', 50_000, set('k', 'again'), 49_993))).toEqual({
      outcome: 'duplicate',
    });
    expect(fsm.apply(log.entry('steady', 2, set('k', 'again'), 49_993))).toEqual({ outcome: 'expired' });
    expect(text(fsm.get('k'))).toBe('50000');
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
    expect(fsm.apply(log.entry('member-0', 1, set('k', 'retry')))).toEqual({ outcome: 'duplicate' });
    expect(fsm.apply(log.entry('member-19999', 1, set('k', 'retry')))).toEqual({ outcome: 'duplicate' });
    // member-1 was evicted long ago: its retry is taken for a new proposal.
    expect(fsm.apply(log.entry('member-1', 1, set('k', 'retry')))).toEqual({ outcome: 'applied' });
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
    const wholeResults = entries.map((e) => whole.apply(e).outcome);
    const first = new RaftFsm();
    for (const e of entries.slice(0, half)) first.apply(e);
    const restored = new RaftFsm();
    await restored.restore(stream(await snapshotChunks(first)));
    restored.restoredAt(half);
    const restoredResults = entries.slice(half).map((e) => restored.apply(e).outcome);
    // The dedupe table travels in the snapshot: the restored replica takes the same decisions,
    // some of them duplicates of proposals it only knows from the snapshot.
    expect(restoredResults).toEqual(wholeResults.slice(half));
    expect(restoredResults).toContain('duplicate');
    expect(wholeResults.slice(0, half)).toContain('duplicate');
    const [snapWhole, snapRestored] = await Promise.all([snapshotBytesOf(whole), snapshotBytesOf(restored)]);
    expect(snapRestored.length).toBeGreaterThan(0);
    expect(Buffer.compare(snapRestored, snapWhole)).toBe(0);
  });
});
