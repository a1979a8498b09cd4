/**
 * PeerInput's InstallSnapshot intake on a fake core: the core's verdict decides whether the data
 * is stored at all; stored data stays in an invisible sink, held only when the core accepted the
 * snapshot, until a Ready installs it (closed) or something else is installed (cancelled).
 */
import { describe, expect, it } from 'vitest';
import type { SnapshotVerdict } from '../../src/core/peer-rules.js';
import type { RaftCore } from '../../src/core/raft.js';
import type { Message, SnapshotMeta, SnapshotRequest } from '../../src/core/types.js';
import { RaftError } from '../../src/errors.js';
import { PeerInput } from '../../src/node/peer-input.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { gate } from '../support/promises.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const meta = (index: number, term = 2): SnapshotMeta => ({
  index,
  term,
  config: { servers: [{ id: 'a', suffrage: 'voter' }] },
  configIndex: 1,
});
const request = (snapshot: SnapshotMeta): SnapshotRequest => ({
  type: 'snapshotRequest',
  from: 'a',
  to: 'b',
  term: 2,
  snapshot,
});

/** A chunk stream that records how far it was read: `ended` only once read past its last chunk. */
function stream(texts: string[], opts: { until?: Promise<void>; fail?: Error | undefined } = {}) {
  const seen = { pulled: 0, ended: false, started: gate() };
  async function* chunks(): AsyncGenerator<Uint8Array> {
    seen.started.open();
    await opts.until;
    for (const text of texts) {
      seen.pulled++;
      yield encoder.encode(text);
    }
    if (opts.fail !== undefined) throw opts.fail;
    seen.ended = true;
  }
  return { chunks: chunks(), seen };
}

interface SinkLog {
  key: string;
  writes: string[];
  events: ('close' | 'cancel')[];
}

/**
 * A PeerInput over a fake core and a MemoryStore whose sinks record what is done to them.
 * `afterStep` is what the core's pendingSnapshot becomes once it steps a request, as a core that
 * accepted (or refused) the snapshot would leave it.
 */
function setup() {
  const h = {
    verdict: 'store' as SnapshotVerdict,
    afterStep: null as SnapshotMeta | null,
    pending: null as SnapshotMeta | null,
    commitIndex: 0,
    /** Requests queued through ctx.step, and those the core stepped inside a run. */
    queued: [] as Message[],
    coreSteps: [] as Message[],
    /** Order of sink writes and core steps. */
    log: [] as string[],
    sinks: [] as SinkLog[],
    failCancel: false,
    storage: new MemoryStore({ retainSnapshots: 10 }),
  };
  const core = {
    snapshotVerdict: () => h.verdict,
    step: (m: Message) => {
      h.coreSteps.push(m);
      h.log.push('step');
      h.pending = h.afterStep;
    },
    get pendingSnapshot() {
      return h.pending;
    },
    status: () => ({ commitIndex: h.commitIndex }),
  } as unknown as RaftCore;
  const create = h.storage.create.bind(h.storage);
  h.storage.create = async (m) => {
    const sink = await create(m);
    const rec: SinkLog = { key: `${m.index}/${m.term}`, writes: [], events: [] };
    h.sinks.push(rec);
    return {
      id: sink.id,
      write: (chunk) => {
        rec.writes.push(decoder.decode(chunk));
        h.log.push(`write ${decoder.decode(chunk)}`);
        return sink.write(chunk);
      },
      close: () => {
        rec.events.push('close');
        return sink.close();
      },
      cancel: async () => {
        rec.events.push('cancel');
        await sink.cancel();
        if (h.failCancel) throw new Error('cancel failed');
      },
    };
  };
  const input = new PeerInput({
    storage: h.storage,
    run: async (task) => task(core),
    step: (m) => h.queued.push(m),
  });
  return { h, input };
}

const listed = async (storage: MemoryStore) =>
  (await storage.list()).map((r) => `${r.meta.index}/${r.meta.term}`);

describe('PeerInput.receiveSnapshot: what is not stored', () => {
  it('refuses what the core refuses, stepping it all the same, and stores nothing', async () => {
    const { h, input } = setup();
    h.verdict = 'refuse';
    const r = request(meta(9));
    const received = input.receiveSnapshot(r, stream(['ab']).chunks);
    await expect(received).rejects.toBeInstanceOf(RaftError);
    await expect(received).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'snapshot 9/2 from a refused: a stale term, not from the leader, or malformed',
    });
    expect(h.queued).toEqual([r]);
    expect(h.queued[0]).toBe(r);
    expect(h.coreSteps).toEqual([]);
    expect(h.sinks).toEqual([]);
    expect(input.dropped).toEqual({ snapshotRefused: 1 });
  });

  it('drains and steps a snapshot the core skips', async () => {
    const { h, input } = setup();
    h.verdict = 'skip';
    const r = request(meta(9));
    const { chunks, seen } = stream(['ab', 'cd', 'ef']);
    await expect(input.receiveSnapshot(r, chunks)).resolves.toBeUndefined();
    expect(seen).toMatchObject({ pulled: 3, ended: true });
    expect(h.queued).toEqual([r]);
    expect(h.coreSteps).toEqual([]);
    expect(h.sinks).toEqual([]);
    expect(input.dropped).toEqual({});
  });

  it('drains and steps a snapshot already in the store', async () => {
    const { h, input } = setup();
    const stored = await h.storage.create(meta(9));
    await stored.close();
    h.sinks.length = 0;
    const r = request(meta(9));
    const { chunks, seen } = stream(['ab', 'cd']);
    await input.receiveSnapshot(r, chunks);
    expect(seen).toMatchObject({ pulled: 2, ended: true });
    expect(h.queued).toEqual([r]);
    expect(h.coreSteps).toEqual([]);
    expect(h.sinks).toEqual([]);
    expect(input.dropped).toEqual({});
  });
});

describe('PeerInput.receiveSnapshot: storing', () => {
  it('writes every chunk in order, steps the core, and holds the sink the core will install', async () => {
    const { h, input } = setup();
    // The accepted snapshot is described by an equal, not the same, object.
    h.afterStep = meta(9);
    const r = request(meta(9));
    await input.receiveSnapshot(r, stream(['ab', 'cd', 'ef']).chunks);
    expect(h.log).toEqual(['write ab', 'write cd', 'write ef', 'step']);
    expect(h.coreSteps).toEqual([r]);
    expect(h.coreSteps[0]).toBe(r);
    expect(h.queued).toEqual([]);
    expect(h.sinks).toEqual([{ key: '9/2', writes: ['ab', 'cd', 'ef'], events: [] }]);
    expect(await listed(h.storage)).toEqual([]);
    await input.installing(meta(9));
    expect(h.sinks[0]?.events).toEqual(['close']);
    expect(await listed(h.storage)).toEqual(['9/2']);
    expect(input.dropped).toEqual({});
  });

  it('cancels the data when the log already covers the snapshot', async () => {
    const { h, input } = setup();
    h.commitIndex = 9;
    await expect(input.receiveSnapshot(request(meta(9)), stream(['ab']).chunks)).resolves.toBeUndefined();
    expect(h.sinks).toEqual([{ key: '9/2', writes: ['ab'], events: ['cancel'] }]);
    expect(input.dropped).toEqual({});
  });

  it('does not hold data when the core awaits another snapshot but the log covers this one', async () => {
    const { h, input } = setup();
    h.afterStep = meta(12);
    h.commitIndex = 10;
    await input.receiveSnapshot(request(meta(9)), stream(['ab']).chunks);
    expect(h.sinks[0]?.events).toEqual(['cancel']);
    await input.installing(meta(12));
    expect(h.sinks[0]?.events).toEqual(['cancel']);
  });

  it.each([
    ['nothing pending', null],
    ['the same index of another term', meta(9, 3)],
    ['another index of the same term', meta(8, 2)],
  ])(
    'refuses, cancelling the data, when the core then awaits %s and the log does not cover it',
    async (_, pending) => {
      const { h, input } = setup();
      h.afterStep = pending;
      h.commitIndex = 8;
      const received = input.receiveSnapshot(request(meta(9)), stream(['ab']).chunks);
      await expect(received).rejects.toBeInstanceOf(RaftError);
      await expect(received).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: 'snapshot 9/2 from a refused: the term or leader changed while it was received',
      });
      expect(h.sinks).toEqual([{ key: '9/2', writes: ['ab'], events: ['cancel'] }]);
      expect(input.dropped).toEqual({ snapshotRefused: 1 });
    },
  );

  it('cancels the data and rejects with the stream’s error when the stream fails', async () => {
    const { h, input } = setup();
    h.afterStep = meta(9);
    const lost = new Error('connection lost');
    const received = input.receiveSnapshot(request(meta(9)), stream(['ab'], { fail: lost }).chunks);
    await expect(received).rejects.toBe(lost);
    expect(h.sinks).toEqual([{ key: '9/2', writes: ['ab'], events: ['cancel'] }]);
    expect(h.coreSteps).toEqual([]);
    expect(input.dropped).toEqual({});
  });

  it('a cancel that fails masks neither a success, a refusal nor a stream’s error', async () => {
    const { h, input } = setup();
    h.failCancel = true;
    h.commitIndex = 9;
    await expect(input.receiveSnapshot(request(meta(9)), stream(['ab']).chunks)).resolves.toBeUndefined();
    await expect(input.receiveSnapshot(request(meta(10)), stream(['ab']).chunks)).rejects.toMatchObject({
      message: 'snapshot 10/2 from a refused: the term or leader changed while it was received',
    });
    const lost = new Error('connection lost');
    await expect(input.receiveSnapshot(request(meta(11)), stream([], { fail: lost }).chunks)).rejects.toBe(
      lost,
    );
    expect(h.sinks.map((s) => s.events)).toEqual([['cancel'], ['cancel'], ['cancel']]);
  });
});

describe('PeerInput.receiveSnapshot: one at a time', () => {
  /** Starts receiving 9/2 over a stream that stays open until `until` resolves. */
  async function receiving(input: PeerInput, until: Promise<void>, fail?: Error) {
    const first = stream(['ab'], { until, fail });
    const received = input.receiveSnapshot(request(meta(9)), first.chunks);
    await first.seen.started.promise;
    // Wrapped: an async function returning the promise itself would wait for it to settle.
    return { received };
  }

  it('turns a second snapshot away, retryable, while one is being received, and takes it after', async () => {
    const { h, input } = setup();
    h.afterStep = meta(9);
    const hold = gate();
    const { received: first } = await receiving(input, hold.promise);
    const second = input.receiveSnapshot(request(meta(10)), stream(['cd']).chunks);
    await expect(second).rejects.toBeInstanceOf(RaftError);
    await expect(second).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: 'snapshot 10/2 from a: another snapshot is being received',
      retryable: true,
    });
    expect(input.dropped).toEqual({ snapshotBusy: 1 });
    expect(h.sinks.map((s) => s.key)).toEqual(['9/2']);
    hold.open();
    await first;
    h.afterStep = meta(10);
    await input.receiveSnapshot(request(meta(10)), stream(['cd']).chunks);
    expect(h.sinks.map((s) => [s.key, s.events])).toEqual([
      ['9/2', []],
      ['10/2', []],
    ]);
  });

  it('takes a new snapshot after a failed one', async () => {
    const { h, input } = setup();
    h.afterStep = meta(10);
    const hold = gate();
    const lost = new Error('connection lost');
    const { received: first } = await receiving(input, hold.promise, lost);
    hold.open();
    await expect(first).rejects.toBe(lost);
    await expect(input.receiveSnapshot(request(meta(10)), stream(['cd']).chunks)).resolves.toBeUndefined();
    expect(input.dropped).toEqual({});
  });
  it('drains a second delivery of a snapshot already held, so the held data is never orphaned', async () => {
    // A leader that gave up on a slow send sends the same snapshot again; the second delivery's
    // store lookup ends only after the first was stored, stepped and held.
    const { h, input } = setup();
    h.afterStep = meta(9);
    const lookedUp = gate();
    const list = h.storage.list.bind(h.storage);
    let lookups = 0;
    h.storage.list = async () => {
      if (++lookups === 2) await lookedUp.promise;
      return list();
    };
    const first = input.receiveSnapshot(request(meta(9)), stream(['ab']).chunks);
    const again = stream(['ab']);
    const second = input.receiveSnapshot(request(meta(9)), again.chunks);
    await first;
    lookedUp.open();
    await second;
    expect(again.seen.ended).toBe(true);
    expect(h.queued).toEqual([request(meta(9))]);
    expect(h.sinks.map((s) => s.key)).toEqual(['9/2']);
    await input.installing(meta(9));
    expect(h.sinks.map((s) => [s.key, s.events])).toEqual([['9/2', ['close']]]);
    expect(await listed(h.storage)).toEqual(['9/2']);
  });
});

describe('PeerInput: held snapshots', () => {
  /** An intake holding 9/2 and 10/2, both accepted in turn by the core. */
  async function holdingTwo() {
    const s = setup();
    for (const index of [9, 10]) {
      s.h.afterStep = meta(index);
      await s.input.receiveSnapshot(request(meta(index)), stream([`data${index}`]).chunks);
    }
    return s;
  }

  it('installing closes the installed one, cancels the others, and holds nothing after', async () => {
    const { h, input } = await holdingTwo();
    await input.installing(meta(10));
    expect(h.sinks.map((s) => [s.key, s.events])).toEqual([
      ['9/2', ['cancel']],
      ['10/2', ['close']],
    ]);
    await input.installing(meta(10));
    await input.installing(meta(9));
    await input.discardHeld();
    expect(h.sinks.map((s) => s.events)).toEqual([['cancel'], ['close']]);
    expect(await listed(h.storage)).toEqual(['10/2']);
  });

  it('installing a snapshot not held discards every held one', async () => {
    const { h, input } = await holdingTwo();
    await input.installing(meta(11));
    expect(h.sinks.map((s) => s.events)).toEqual([['cancel'], ['cancel']]);
    expect(await listed(h.storage)).toEqual([]);
  });

  it('discardHeld cancels all, once, even when a cancel fails', async () => {
    const { h, input } = await holdingTwo();
    h.failCancel = true;
    await expect(input.discardHeld()).resolves.toBeUndefined();
    expect(h.sinks.map((s) => s.events)).toEqual([['cancel'], ['cancel']]);
    await input.discardHeld();
    await input.installing(meta(10));
    expect(h.sinks.map((s) => s.events)).toEqual([['cancel'], ['cancel']]);
  });
});
