import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/binding/input.js';
import { encodeProposal } from '../../src/binding/proposal.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import type { Entry } from '../../src/core/types.js';
import { isRaftError } from '../../src/errors.js';
import { bytes, deleteInput, setInput, snapshotChunks } from '../support/fsm-helpers.js';

class Log {
  private index = 0;
  private seq = 0;
  entry(input: Input): Entry {
    this.index += 1;
    this.seq += 1;
    return {
      index: this.index,
      term: 1,
      type: 'command',
      data: encodeProposal({ member: 'm', seq: this.seq, input }),
    };
  }
}

const set = setInput;
const del = deleteInput;

/** Takes the next `n` items. */
async function take(it: AsyncIterator<Input>, n: number): Promise<Input[]> {
  const out: Input[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done === true) throw new Error(`ended after ${i} items`);
    out.push(r.value);
  }
  return out;
}

/** Drains the iterator to its end, returning the items and the error it ended with, if any. */
async function drain(it: AsyncIterable<Input>): Promise<{ items: Input[]; error: unknown }> {
  const items: Input[] = [];
  try {
    for await (const input of it) items.push(input);
  } catch (error) {
    return { items, error };
  }
  return { items, error: undefined };
}

async function* stream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

/** Rebuilds a state from a replay and changes, as an observer would. */
function rebuild(inputs: readonly Input[]): Map<string, Uint8Array> {
  const state = new Map<string, Uint8Array>();
  for (const input of inputs) {
    if (input.op === 'set') state.set(input.key, input.value);
    else state.delete(input.key);
  }
  return new Map([...state].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('RaftFsm observers: order', () => {
  it('replays the state in key order, then live changes in log order', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    for (const k of ['c', 'a', 'b']) fsm.apply(log.entry(set(k, k.toUpperCase())));
    const it = fsm.observe();
    fsm.apply(log.entry(set('a', 'again')));
    fsm.apply(log.entry(del('c')));
    // Deleting a missing key changes nothing, so there is nothing to observe.
    fsm.apply(log.entry(del('never-set')));
    fsm.apply(log.entry(set('d', 'D')));
    fsm.closeObservers();
    expect((await drain(it)).items).toEqual([
      set('a', 'A'),
      set('b', 'B'),
      set('c', 'C'),
      set('a', 'again'),
      del('c'),
      set('d', 'D'),
    ]);
  });

  it('delivers live changes to a reader already waiting', async () => {
    const fsm = new RaftFsm();
    const it = fsm.observe();
    const pending = it.next();
    fsm.apply(new Log().entry(set('k', 'v')));
    expect(await pending).toEqual({ value: set('k', 'v'), done: false });
  });

  it('has no gap and no duplicate when observe() is called between applies', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    const observers: { it: AsyncIterableIterator<Input>; keysAtStart: number; changesAfter: number }[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 37 === 0)
        observers.push({ it: fsm.observe(), keysAtStart: fsm.entries().size, changesAfter: 0 });
      const key = `k${i % 23}`;
      const input = i % 7 === 3 && fsm.get(key) !== undefined ? del(key) : set(key, String(i));
      fsm.apply(log.entry(input));
      for (const o of observers) o.changesAfter += 1;
    }
    fsm.closeObservers();
    for (const o of observers) {
      const { items, error } = await drain(o.it);
      expect(error).toBeUndefined();
      expect(items).toHaveLength(o.keysAtStart + o.changesAfter);
      expect(rebuild(items)).toEqual(fsm.entries());
    }
  });

  it('does not show duplicates, and hands each observer its own copy', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    const first = fsm.observe();
    const second = fsm.observe();
    const entry = log.entry(set('k', 'v'));
    fsm.apply(entry);
    fsm.apply(entry);
    fsm.closeObservers();
    const a = (await drain(first)).items;
    expect(a).toEqual([set('k', 'v')]);
    const value = a[0]?.op === 'set' ? a[0].value : new Uint8Array();
    value.fill(0);
    expect((await drain(second)).items).toEqual([set('k', 'v')]);
    expect(fsm.get('k')).toEqual(bytes('v'));
  });
});

describe('RaftFsm observers: restore', () => {
  it('emits exactly the difference, in key order, then live changes', async () => {
    const other = new RaftFsm();
    const otherLog = new Log();
    for (const [k, v] of [
      ['b', '2'],
      ['c', 'changed'],
      ['d', '4'],
      ['e', '5'],
    ])
      other.apply(otherLog.entry(set(k as string, v as string)));
    const chunks = await snapshotChunks(other);

    const fsm = new RaftFsm();
    const log = new Log();
    for (const [k, v] of [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['e', '5'],
    ])
      fsm.apply(log.entry(set(k as string, v as string)));
    const it = fsm.observe();
    await fsm.restore(stream(chunks));
    fsm.restoredAt(100);
    const after = {
      index: 101,
      term: 2,
      type: 'command' as const,
      data: encodeProposal({ member: 'x', seq: 1, input: del('b') }),
    };
    fsm.apply(after);
    fsm.closeObservers();
    const { items } = await drain(it);
    expect(items).toEqual([
      set('a', '1'),
      set('b', '2'),
      set('c', '3'),
      set('e', '5'),
      del('a'),
      set('c', 'changed'),
      set('d', '4'),
      del('b'),
    ]);
    expect(rebuild(items)).toEqual(fsm.entries());
  });

  it('gives an observer registered during a restore the old state, then the difference', async () => {
    const source = new RaftFsm();
    source.apply(new Log().entry(set('new', 'v')));
    const chunks = await snapshotChunks(source);
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncGenerator<Uint8Array> {
      await gate;
      yield* chunks;
    }
    const fsm = new RaftFsm();
    fsm.apply(new Log().entry(set('old', 'v')));
    const restoring = fsm.restore(slow());
    const it = fsm.observe();
    release();
    await restoring;
    fsm.closeObservers();
    expect((await drain(it)).items).toEqual([set('old', 'v'), set('new', 'v'), del('old')]);
  });

  it('does not count a difference against the queue limit, but overflows on a second unconsumed one', async () => {
    const big = new RaftFsm();
    const bigLog = new Log();
    for (let i = 0; i < 50; i++) big.apply(bigLog.entry(set(`k${String(i).padStart(2, '0')}`, 'v')));
    const bigChunks = await snapshotChunks(big);
    const emptyChunks = await snapshotChunks(new RaftFsm());

    const fsm = new RaftFsm({ observerQueueLimit: 2 });
    const it = fsm.observe();
    await fsm.restore(stream(bigChunks));
    const first = await take(it, 50);
    expect(rebuild(first)).toEqual(big.entries());

    const stalled = fsm.observe();
    await fsm.restore(stream(emptyChunks));
    await fsm.restore(stream(bigChunks));
    const { items, error } = await drain(stalled);
    expect(isRaftError(error, 'OBSERVER_OVERFLOW')).toBe(true);
    expect(items).toHaveLength(100);
    expect(rebuild(items)).toEqual(new Map());
  });
});

describe('RaftFsm observers: slow consumers', () => {
  it('ends a stalled observer with OBSERVER_OVERFLOW after its queued changes; others go on', async () => {
    const fsm = new RaftFsm({ observerQueueLimit: 5 });
    const log = new Log();
    // The replay is not limited: 20 keys fit although the limit is 5.
    for (let i = 0; i < 20; i++) fsm.apply(log.entry(set(`r${String(i).padStart(2, '0')}`, 'v')));
    const stalled = fsm.observe();
    const active = fsm.observe();
    expect(await take(active, 20)).toHaveLength(20);
    for (let i = 0; i < 30; i++) {
      fsm.apply(log.entry(set('live', String(i))));
      expect(await take(active, 1)).toEqual([set('live', String(i))]);
    }
    const { items, error } = await drain(stalled);
    expect(items).toHaveLength(20 + 5);
    expect(items.slice(20)).toEqual([0, 1, 2, 3, 4].map((i) => set('live', String(i))));
    expect(isRaftError(error, 'OBSERVER_OVERFLOW')).toBe(true);
    expect((error as Error).message).toMatch(/observe again/);
    // After the error the iterator is finished; a new observe() starts from a fresh replay.
    expect(await stalled.next()).toEqual({ value: undefined, done: true });
    const fresh = fsm.observe();
    fsm.apply(log.entry(set('after', 'v')));
    fsm.closeObservers();
    expect((await drain(fresh)).items).toHaveLength(22);
    expect((await drain(active)).error).toBeUndefined();
  });

  it('never blocks apply: many changes with nobody reading end every observer with OBSERVER_OVERFLOW', async () => {
    const fsm = new RaftFsm({ observerQueueLimit: 10 });
    const log = new Log();
    const observers = [fsm.observe(), fsm.observe(), fsm.observe()];
    for (let i = 0; i < 20_000; i++) fsm.apply(log.entry(set(`k${i % 100}`, String(i))));
    expect(fsm.appliedIndex).toBe(20_000);
    for (const observer of observers) {
      const { items, error } = await drain(observer);
      // Each got what fitted in its queue, the first 10 changes, and then the overflow.
      expect(items).toEqual(Array.from({ length: 10 }, (_, i) => set(`k${i}`, String(i))));
      expect(isRaftError(error, 'OBSERVER_OVERFLOW')).toBe(true);
    }
  });
});

describe('RaftFsm observers: ending', () => {
  it('ends on abort, also for a reader already waiting, and drops what was queued', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    const controller = new AbortController();
    const it = fsm.observe(controller.signal);
    const waiting = it.next();
    controller.abort();
    expect(await waiting).toEqual({ value: undefined, done: true });

    const queued = new AbortController();
    const other = fsm.observe(queued.signal);
    fsm.apply(log.entry(set('k', 'v')));
    queued.abort();
    fsm.apply(log.entry(set('k', 'w')));
    expect(await other.next()).toEqual({ value: undefined, done: true });
  });

  it('ends at once when the signal is already aborted', async () => {
    const fsm = new RaftFsm();
    fsm.apply(new Log().entry(set('k', 'v')));
    expect(await fsm.observe(AbortSignal.abort()).next()).toEqual({ value: undefined, done: true });
  });

  it('ends every observer on closeObservers, after what each had queued', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    fsm.apply(log.entry(set('a', '1')));
    const one = fsm.observe();
    const two = fsm.observe();
    const waiting = two.next();
    fsm.apply(log.entry(set('b', '2')));
    fsm.closeObservers();
    fsm.apply(log.entry(set('c', '3')));
    expect((await drain(one)).items).toEqual([set('a', '1'), set('b', '2')]);
    expect(await waiting).toEqual({ value: set('a', '1'), done: false });
    expect((await drain(two)).items).toEqual([set('b', '2')]);
  });

  it('stops delivering when the consumer breaks out of its loop', async () => {
    const fsm = new RaftFsm();
    const log = new Log();
    fsm.apply(log.entry(set('a', '1')));
    fsm.apply(log.entry(set('b', '2')));
    const it = fsm.observe();
    for await (const input of it) {
      expect(input).toEqual(set('a', '1'));
      break;
    }
    fsm.apply(log.entry(set('c', '3')));
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});
