import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppendRequest, HeartbeatRequest, Message } from '../../src/core/types.js';
import { isRaftError } from '../../src/errors.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { appendWithEntries, heartbeat, snapshotRequest } from '../support/messages.js';
import { rejectionOf } from '../support/promises.js';
import { RecordingHandler, streamOf } from '../support/recording-handler.js';
import { waitFor } from '../support/wait.js';
import { flushMicrotasks, type StartedNetwork, startNetwork } from './inmem-net.js';

/** The `commit` numbers of the heartbeats `id` received, in arrival order. */
function commits(net: StartedNetwork, id: string): number[] {
  return net
    .handler(id)
    .messages.filter((m): m is HeartbeatRequest => m.type === 'heartbeatRequest')
    .map((m) => m.commit);
}

/** Sends a heartbeat over every ordered pair of `ids`, numbered so the receiver can tell who sent it. */
function sendAllPairs(net: StartedNetwork, ids: readonly string[]): void {
  ids.forEach((from, i) => {
    ids.forEach((to, j) => {
      if (from !== to) net.transport(from).send(heartbeat(from, to, i * 10 + j));
    });
  });
}

/** Who received from whom after {@link sendAllPairs}, as "from>to" strings. */
function receivedPairs(net: StartedNetwork, ids: readonly string[]): string[] {
  return ids.flatMap((to) => net.handler(to).messages.map((m) => `${m.from}>${to}`)).sort();
}

describe('InmemNetwork links', () => {
  const ids = ['a', 'b', 'c', 'd'];

  it('partition cuts both directions between the sides and keeps links within each side', async () => {
    const net = await startNetwork(ids);
    net.network.partition(['a', 'b'], ['c', 'd']);
    sendAllPairs(net, ids);
    expect(net.network.stats.dropReasons.cut).toBe(8);
    await flushMicrotasks();
    expect(receivedPairs(net, ids)).toEqual(['a>b', 'b>a', 'c>d', 'd>c']);
  });

  it('cut is one-way', async () => {
    const net = await startNetwork(['a', 'b']);
    net.network.cut('a', 'b');
    net.transport('a').send(heartbeat('a', 'b', 1));
    net.transport('b').send(heartbeat('b', 'a', 2));
    await waitFor(() => net.handler('a').messages.length === 1, 1000, 'b to reach a');
    expect(net.handler('b').messages).toEqual([]);
    expect(net.network.stats.dropReasons.cut).toBe(1);
  });

  it('isolate cuts every link of a node, including to nodes that join later', async () => {
    const net = await startNetwork(['a', 'b', 'c']);
    net.network.isolate('c');
    const late = net.network.transport('d');
    await late.start(new RecordingHandler());
    late.send(heartbeat('d', 'c', 1));
    sendAllPairs(net, ['a', 'b', 'c']);
    await flushMicrotasks();
    expect(receivedPairs(net, ['a', 'b', 'c'])).toEqual(['a>b', 'b>a']);
    expect(net.network.stats.dropReasons.cut).toBe(5);
  });

  it('heal restores partitions, cuts and isolation', async () => {
    const net = await startNetwork(ids);
    net.network.partition(['a'], ['b']);
    net.network.cut('c', 'd');
    net.network.isolate('d');
    net.network.heal();
    sendAllPairs(net, ids);
    await waitFor(() => receivedPairs(net, ids).length === 12, 1000, 'all 12 pairs to connect');
    expect(net.network.stats.dropped).toBe(0);
  });

  it('a partition also loses messages already in flight', async () => {
    const net = await startNetwork(['a', 'b']);
    net.transport('a').send(heartbeat('a', 'b', 1));
    // Delivery is never synchronous, so the message is still in flight here.
    net.network.partition(['a'], ['b']);
    await flushMicrotasks();
    expect(net.handler('b').messages).toEqual([]);
    expect(net.network.stats.dropReasons.cut).toBe(1);
  });

  it('rejects a snapshot across a cut with a retryable UNREACHABLE', async () => {
    const net = await startNetwork(['a', 'b']);
    net.network.cut('a', 'b');
    const err = await rejectionOf(
      net.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf(new Uint8Array(4))),
    );
    expect(isRaftError(err, 'UNREACHABLE')).toBe(true);
    expect((err as { retryable: boolean }).retryable).toBe(true);
    expect(net.handler('b').snapshots).toEqual([]);
  });
});

describe('InmemNetwork drop rate', () => {
  /** Sends heartbeats 1..n from a to b on a network with `seed` and `rate`; returns what arrived. */
  async function lossyRun(
    seed: number,
    rate: number,
    n: number,
  ): Promise<{ arrived: number[]; dropped: number }> {
    const net = await startNetwork(['a', 'b'], { seed });
    net.network.setDropRate(rate);
    for (let i = 1; i <= n; i++) net.transport('a').send(heartbeat('a', 'b', i));
    await flushMicrotasks();
    expect(net.network.stats.delivered + net.network.stats.dropped).toBe(n);
    expect(net.network.stats.dropReasons.random).toBe(net.network.stats.dropped);
    return { arrived: commits(net, 'b'), dropped: net.network.stats.dropped };
  }

  it('drops the same messages for the same seed', async () => {
    const first = await lossyRun(42, 0.3, 1000);
    const second = await lossyRun(42, 0.3, 1000);
    expect(second).toEqual(first);
    expect(first.dropped).toBeGreaterThan(230);
    expect(first.dropped).toBeLessThan(370);
    // Survivors keep their order.
    expect(first.arrived).toEqual([...first.arrived].sort((x, y) => x - y));
  });

  it('drops different messages for a different seed', async () => {
    const first = await lossyRun(42, 0.3, 1000);
    const other = await lossyRun(43, 0.3, 1000);
    expect(other.arrived).not.toEqual(first.arrived);
  });

  it('drops nothing at 0 and everything at 1', async () => {
    expect((await lossyRun(1, 0, 50)).dropped).toBe(0);
    expect((await lossyRun(1, 1, 50)).dropped).toBe(50);
  });

  it('takes its initial rate from the options and rejects rates outside [0, 1]', async () => {
    const net = await startNetwork(['a', 'b'], { dropRate: 1 });
    net.transport('a').send(heartbeat('a', 'b'));
    expect(net.network.stats.dropReasons.random).toBe(1);
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      expect(() => net.network.setDropRate(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    expect(() => new InmemNetwork({ dropRate: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});

describe('InmemNetwork delay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds messages for a fixed delay and keeps them in order', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const net = await startNetwork(['a', 'b'], { delay: 50 });
    for (let i = 1; i <= 20; i++) net.transport('a').send(heartbeat('a', 'b', i));
    await flushMicrotasks();
    vi.advanceTimersByTime(49);
    expect(commits(net, 'b')).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(commits(net, 'b')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('reorders messages when a delay function gives them different delays', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const net = await startNetwork(['a', 'b']);
    net.network.setDelay((m) => (m.type === 'heartbeatRequest' && m.commit === 1 ? 30 : 10));
    net.transport('a').send(heartbeat('a', 'b', 1));
    net.transport('a').send(heartbeat('a', 'b', 2));
    vi.advanceTimersByTime(10);
    expect(commits(net, 'b')).toEqual([2]);
    vi.advanceTimersByTime(20);
    expect(commits(net, 'b')).toEqual([2, 1]);
  });

  it('loses a delayed message when its link is cut before it arrives', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const net = await startNetwork(['a', 'b'], { delay: 20 });
    net.transport('a').send(heartbeat('a', 'b', 1));
    vi.advanceTimersByTime(10);
    net.network.cut('a', 'b');
    vi.advanceTimersByTime(10);
    expect(commits(net, 'b')).toEqual([]);
    expect(net.network.stats.dropReasons.cut).toBe(1);
  });

  it('rejects invalid fixed delays and treats invalid per-message delays as none', async () => {
    const net = await startNetwork(['a', 'b']);
    for (const bad of [-1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => net.network.setDelay(bad)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
    net.network.setDelay(() => Number.NaN);
    net.transport('a').send(heartbeat('a', 'b', 1));
    net.network.setDelay(() => {
      throw new Error('broken delay function');
    });
    net.transport('a').send(heartbeat('a', 'b', 2));
    await flushMicrotasks();
    expect(commits(net, 'b')).toEqual([1, 2]);
  });
});

describe('InmemNetwork filters', () => {
  it('drops what a filter rejects until the filter is removed', async () => {
    const net = await startNetwork(['a', 'b', 'c']);
    const remove = net.network.filter((m) => !(m.type === 'heartbeatRequest' && m.from === 'a'));
    net.transport('a').send(heartbeat('a', 'b', 1));
    net.transport('c').send(heartbeat('c', 'b', 2));
    net.transport('a').send(appendWithEntries('a', 'b'));
    remove();
    remove();
    net.transport('a').send(heartbeat('a', 'b', 3));
    await flushMicrotasks();
    expect(net.handler('b').messages.map((m) => `${m.from}:${m.type}`)).toEqual([
      'c:heartbeatRequest',
      'a:appendRequest',
      'a:heartbeatRequest',
    ]);
    expect(commits(net, 'b')).toEqual([2, 3]);
    expect(net.network.stats.dropReasons.filtered).toBe(1);
  });

  it('requires every filter to accept, and treats a throwing filter as a rejection', async () => {
    const net = await startNetwork(['a', 'b']);
    net.network.filter(() => true);
    const removeThrowing = net.network.filter(() => {
      throw new Error('broken filter');
    });
    expect(() => net.transport('a').send(heartbeat('a', 'b', 1))).not.toThrow();
    removeThrowing();
    net.transport('a').send(heartbeat('a', 'b', 2));
    await flushMicrotasks();
    expect(commits(net, 'b')).toEqual([2]);
    expect(net.network.stats.dropReasons.filtered).toBe(1);
  });
});

describe('InmemTransport copies', () => {
  it('delivers what was sent even when the sender mutates the message afterwards', async () => {
    const net = await startNetwork(['a', 'b']);
    const sent = appendWithEntries('a', 'b');
    const original = structuredClone(sent);
    net.transport('a').send(sent);
    (sent as { commit: number }).commit = 999;
    sent.entries[0]?.data.fill(7);
    (sent.entries as AppendRequest['entries'][number][]).pop();
    await waitFor(() => net.handler('b').messages.length === 1, 1000, 'the append request');
    expect(net.handler('b').messages[0]).toEqual(original);
  });

  it('gives each receiver its own copy, unrelated to the sender’s object', async () => {
    const net = await startNetwork(['a', 'b', 'c']);
    const sent: Message = appendWithEntries('a', 'b');
    net.transport('a').send(sent);
    net.transport('a').send(sent);
    await waitFor(() => net.handler('b').messages.length === 2, 1000, 'two copies');
    const [first, second] = net.handler('b').messages as AppendRequest[];
    expect(first).not.toBe(sent);
    expect(first).not.toBe(second);
    expect(first?.entries[0]?.data).not.toBe(second?.entries[0]?.data);
    first?.entries[0]?.data.fill(9);
    expect(second).toEqual(appendWithEntries('a', 'b'));
    expect(sent).toEqual(appendWithEntries('a', 'b'));
  });

  it('delivers Buffer data as equal bytes', async () => {
    const net = await startNetwork(['a', 'b']);
    const data = Buffer.from('hello, raft');
    const sent: AppendRequest = {
      ...appendWithEntries('a', 'b'),
      entries: [{ index: 11, term: 7, type: 'command', data }],
    };
    net.transport('a').send(sent);
    await waitFor(() => net.handler('b').messages.length === 1, 1000, 'the append request');
    const got = (net.handler('b').messages[0] as AppendRequest).entries[0]?.data;
    expect(got).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(got ?? []).toString()).toBe('hello, raft');
  });
});
