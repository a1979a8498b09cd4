import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRaftError, RaftError } from '../../src/errors.js';
import { patternBytes, snapshotRequest } from '../support/messages.js';
import { type Gate, gate, rejectionOf } from '../support/promises.js';
import { streamOf } from '../support/recording-handler.js';
import { waitFor } from '../support/wait.js';
import { flushMicrotasks, type StartedNetwork, startNetwork } from './inmem-net.js';

/** A source that yields one chunk, then waits for `between` before yielding the second. */
async function* pausingSource(between: Gate): AsyncGenerator<Uint8Array, void, undefined> {
  yield patternBytes(0, 100);
  await between.promise;
  yield patternBytes(100, 100);
}

/** Makes b's handler record each chunk as it arrives, and the error its iteration ends with. */
function watchReceiver(net: StartedNetwork): { chunks: Uint8Array[]; error: unknown } {
  const seen: { chunks: Uint8Array[]; error: unknown } = { chunks: [], error: null };
  net.handler('b').onSnapshotBehavior = async (_request, chunks) => {
    try {
      for await (const chunk of chunks) seen.chunks.push(chunk);
    } catch (err) {
      seen.error = err;
      throw err;
    }
  };
  return seen;
}

/** Sends a snapshot from a to b that pauses after its first chunk; resolves once b has that chunk. */
async function pausedTransfer(net: StartedNetwork) {
  const seen = watchReceiver(net);
  const between = gate();
  const sending = net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), pausingSource(between));
  await waitFor(() => seen.chunks.length === 1, 1000, 'the first chunk at b');
  return { seen, between, sending };
}

function expectRaftError(
  err: unknown,
  code: string,
  fields: { retryable?: boolean; indefinite?: boolean } = {},
): void {
  expect(err).toBeInstanceOf(RaftError);
  expect(err).toMatchObject({ code, ...fields });
}

describe('InmemTransport snapshots across faults', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rejects with UNREACHABLE when either direction of the link is cut, without reaching the receiver', async () => {
    for (const [from, to] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      const net = await startNetwork(['a', 'b']);
      net.network.cut(from, to);
      const err = await rejectionOf(
        net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf(new Uint8Array(1))),
      );
      expectRaftError(err, 'UNREACHABLE', { retryable: true, indefinite: false });
      expect(net.handler('b').snapshots).toEqual([]);
    }
  });

  it('rejects with UNREACHABLE for an unknown, unstarted or closed receiver', async () => {
    const net = await startNetwork(['a', 'b']);
    net.network.transport('idle');
    await net.transport('b').close();
    for (const to of ['nobody', 'idle', 'b']) {
      const err = await rejectionOf(
        net.transport('a').sendSnapshot(snapshotRequest('a', to), streamOf(new Uint8Array(1))),
      );
      expectRaftError(err, 'UNREACHABLE', { retryable: true });
    }
    expect(net.network.stats.snapshotFailures).toBe(3);
  });

  it('rejects with SHUTDOWN from a closed sender and UNREACHABLE from an unstarted one', async () => {
    const net = await startNetwork(['a', 'b']);
    const idle = net.network.transport('idle');
    expectRaftError(
      await rejectionOf(idle.sendSnapshot(snapshotRequest('idle', 'b'), streamOf())),
      'UNREACHABLE',
    );
    await net.transport('a').close();
    expectRaftError(
      await rejectionOf(net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf())),
      'SHUTDOWN',
    );
  });

  it('applies filters and the drop rate to the snapshot request', async () => {
    const net = await startNetwork(['a', 'b']);
    const remove = net.network.filter((m) => m.type !== 'snapshotRequest');
    expectRaftError(
      await rejectionOf(net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf())),
      'UNREACHABLE',
    );
    remove();
    net.network.setDropRate(1);
    expectRaftError(
      await rejectionOf(net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf())),
      'UNREACHABLE',
    );
    net.network.setDropRate(0);
    await net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 8)));
    expect(net.network.stats).toMatchObject({ snapshots: 1, snapshotFailures: 2 });
  });

  it('fails at once, indefinitely, when a partition falls in the middle of a transfer', async () => {
    const net = await startNetwork(['a', 'b']);
    const { seen, between, sending } = await pausedTransfer(net);
    net.network.partition(['a'], ['b']);
    expectRaftError(await rejectionOf(sending), 'UNREACHABLE', { retryable: true, indefinite: true });
    between.open();
    await waitFor(() => seen.error !== null, 1000, 'the receiver to see the broken stream');
    expect(isRaftError(seen.error, 'UNREACHABLE')).toBe(true);
    expect(seen.chunks).toHaveLength(1);
  });

  it('fails with UNREACHABLE when the receiver closes, and SHUTDOWN when the sender does', async () => {
    const net = await startNetwork(['a', 'b']);
    const toClosing = await pausedTransfer(net);
    await net.transport('b').close();
    expectRaftError(await rejectionOf(toClosing.sending), 'UNREACHABLE', { indefinite: true });
    toClosing.between.open();

    const again = await startNetwork(['a', 'b']);
    const fromClosing = await pausedTransfer(again);
    await again.transport('a').close();
    expectRaftError(await rejectionOf(fromClosing.sending), 'SHUTDOWN');
    fromClosing.between.open();
  });

  it('fails when the way back is cut while the receiver finishes: the acknowledgement is lost', async () => {
    const net = await startNetwork(['a', 'b']);
    const finishing = gate();
    net.handler('b').onSnapshotBehavior = async (request, chunks) => {
      await net.handler('b').record(request, chunks);
      await finishing.promise;
    };
    const sending = net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10)));
    await waitFor(() => net.handler('b').snapshots.length === 1, 1000, 'b to read the snapshot');
    net.network.cut('b', 'a');
    finishing.open();
    expectRaftError(await rejectionOf(sending), 'UNREACHABLE', { indefinite: true });
  });

  it('waits for the delay before the receiver gets the request, and an abort meanwhile is not indefinite', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const net = await startNetwork(['a', 'b'], { delay: 100 });
    const sending = net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10)));
    vi.advanceTimersByTime(99);
    await flushMicrotasks();
    expect(net.handler('b').snapshots).toEqual([]);
    vi.advanceTimersByTime(1);
    await sending;
    expect(net.handler('b').snapshots).toHaveLength(1);

    const controller = new AbortController();
    const aborted = net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf(), controller.signal);
    controller.abort(new Error('caller gave up'));
    const err = await rejectionOf(aborted);
    expectRaftError(err, 'TIMEOUT', { indefinite: false });
    expect((err as Error).cause).toEqual(new Error('caller gave up'));
    vi.advanceTimersByTime(100);
    await flushMicrotasks();
    expect(net.handler('b').snapshots).toHaveLength(1);
  });
});

describe('InmemTransport snapshot data and errors', () => {
  it('copies each chunk, so a sender reusing its buffer does not corrupt what was received', async () => {
    const net = await startNetwork(['a', 'b']);
    const buffer = new Uint8Array(4);
    async function* reusing(): AsyncGenerator<Uint8Array, void, undefined> {
      for (let i = 1; i <= 3; i++) {
        buffer.fill(i);
        yield buffer;
      }
    }
    const chunks: Uint8Array[] = [];
    net.handler('b').onSnapshotBehavior = async (_request, stream) => {
      for await (const chunk of stream) chunks.push(chunk);
    };
    await net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), reusing());
    expect(chunks.map((c) => Array.from(c))).toEqual([
      [1, 1, 1, 1],
      [2, 2, 2, 2],
      [3, 3, 3, 3],
    ]);
  });

  it('keeps the code of a receiver RaftError and wraps any other error as a retryable UNREACHABLE', async () => {
    const net = await startNetwork(['a', 'b']);
    const corrupt = new RaftError('CORRUPTION', 'bad checksum');
    net.handler('b').onSnapshotBehavior = async () => {
      throw corrupt;
    };
    const first = await rejectionOf(net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf()));
    expectRaftError(first, 'CORRUPTION', { retryable: false });
    expect((first as Error).cause).toBe(corrupt);

    const plain = new Error('disk full');
    net.handler('b').onSnapshotBehavior = () => {
      throw plain;
    };
    const second = await rejectionOf(net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf()));
    expectRaftError(second, 'UNREACHABLE', { retryable: true });
    expect((second as Error).cause).toBe(plain);
    expect((second as Error).message).toContain('disk full');
  });

  it('reports a failing source as the sender’s own error, not the receiver’s', async () => {
    const net = await startNetwork(['a', 'b']);
    const seen = watchReceiver(net);
    const readError = new Error('snapshot file vanished');
    async function* failing(): AsyncGenerator<Uint8Array, void, undefined> {
      yield new Uint8Array(1);
      throw readError;
    }
    const err = await rejectionOf(net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), failing()));
    expectRaftError(err, 'INVALID_INPUT');
    expect((err as Error).cause).toBe(readError);
    expect(seen.error).toBe(err);
  });

  it('rejects chunks that are not Uint8Arrays', async () => {
    const net = await startNetwork(['a', 'b']);
    async function* strings(): AsyncGenerator<Uint8Array, void, undefined> {
      yield 'not bytes' as unknown as Uint8Array;
    }
    expectRaftError(
      await rejectionOf(net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), strings())),
      'INVALID_INPUT',
    );
  });

  it('closes the source when the receiver stops reading early, and still resolves', async () => {
    const net = await startNetwork(['a', 'b']);
    let sourceClosed = false;
    async function* endless(): AsyncGenerator<Uint8Array, void, undefined> {
      try {
        for (;;) yield new Uint8Array(8);
      } finally {
        sourceClosed = true;
      }
    }
    net.handler('b').onSnapshotBehavior = async (_request, chunks) => {
      for await (const _ of chunks) break;
    };
    await net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), endless());
    expect(sourceClosed).toBe(true);
  });

  it('hands the receiver a copy of the request', async () => {
    const net = await startNetwork(['a', 'b']);
    const request = snapshotRequest('a', 'b');
    await net.transport('a').sendSnapshot(request, streamOf());
    const received = net.handler('b').snapshots[0]?.request;
    expect(received).toEqual(request);
    expect(received).not.toBe(request);
    expect(received?.snapshot.config).not.toBe(request.snapshot.config);
  });
});
