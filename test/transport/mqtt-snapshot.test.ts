import { describe, expect, it } from 'vitest';
import { isRaftError, RaftError } from '../../src/errors.js';
import { MqttTransport, type MqttTransportOptions } from '../../src/transport/index.js';
import { heartbeat, patternBytes, snapshotRequest } from '../support/messages.js';
import { gate, rejectionOf } from '../support/promises.js';
import { RecordingHandler, streamOf } from '../support/recording-handler.js';
import { BROKER_KINDS, closedAfterEach, useBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const WAIT_MS = 10_000;
const KiB = 1024;

/** `total` bytes of the test pattern, yielded in source chunks of `size` (not aligned with the transport's). */
async function* pattern(total: number, size: number): AsyncGenerator<Uint8Array, void, undefined> {
  for (let at = 0; at < total; at += size) {
    await Promise.resolve();
    yield patternBytes(at, Math.min(size, total - at));
  }
}

function sameBytes(actual: Uint8Array | undefined, expected: Uint8Array): boolean {
  return actual !== undefined && Buffer.from(actual).equals(Buffer.from(expected));
}

describe.each(BROKER_KINDS)('MqttTransport: snapshot transfers (%s)', (kind) => {
  const broker = useBroker(kind);
  let clusters = 0;
  const open = closedAfterEach<MqttTransport>();

  /** Transports a and b in a fresh cluster; `options` apply to both. */
  async function pair(options: Partial<MqttTransportOptions> = {}) {
    const cluster = `snapshot-${++clusters}`;
    const make = async (localId: string) => {
      const transport = new MqttTransport({
        localId,
        url: broker.url,
        cluster,
        closeGraceMs: 200,
        ...options,
      });
      const handler = new RecordingHandler();
      open.push(transport);
      await transport.start(handler);
      return { transport, handler };
    };
    return { a: await make('a'), b: await make('b') };
  }

  it('carries 5 MB byte-exact in 256 KiB chunks by default', async () => {
    const { a, b } = await pair();
    const total = 5 * 1024 * KiB;
    const request = snapshotRequest('a', 'b');
    await a.transport.sendSnapshot(request, pattern(total, 100_000));
    expect(b.handler.snapshots).toHaveLength(1);
    expect(b.handler.snapshots[0]?.request).toEqual(request);
    expect(sameBytes(b.handler.snapshots[0]?.data, patternBytes(0, total))).toBe(true);
    expect(a.transport.stats.snapshotChunksSent).toBe(20);
    expect(b.transport.stats.snapshotChunksReceived).toBe(20);
    expect(a.transport.stats.snapshotsSent).toBe(1);
    expect(b.transport.stats.snapshotsReceived).toBe(1);
  });

  it('publishes exactly ceil(size / snapshotChunkBytes) chunks', async () => {
    const { a, b } = await pair({ snapshotChunkBytes: 64 * KiB });
    const total = 5 * 1024 * KiB + 1;
    await a.transport.sendSnapshot(snapshotRequest('a', 'b'), pattern(total, 300_000));
    expect(sameBytes(b.handler.snapshots[0]?.data, patternBytes(0, total))).toBe(true);
    expect(a.transport.stats.snapshotChunksSent).toBe(81);
    expect(b.transport.stats.snapshotChunksReceived).toBe(81);
  });

  it('sends an empty snapshot as one empty chunk', async () => {
    const { a, b } = await pair();
    await a.transport.sendSnapshot(snapshotRequest('a', 'b'), streamOf());
    expect(b.handler.snapshots[0]?.data).toEqual(new Uint8Array(0));
    expect(a.transport.stats.snapshotChunksSent).toBe(1);
  });

  it('keeps at most a window of chunks unacknowledged, while heartbeats still get through', async () => {
    const window = 3;
    const { a, b } = await pair({ snapshotChunkBytes: 16 * KiB, snapshotWindow: window });
    const resume = gate();
    let taken = 0;
    let windowViolated = false;
    b.handler.onSnapshotBehavior = async (_request, chunks) => {
      for await (const _ of chunks) {
        taken++;
        // The transport acked `taken` chunks at most, so the sender may be at most `window` ahead.
        if (a.transport.stats.snapshotChunksSent > taken + window) windowViolated = true;
        if (taken === 1) await resume.promise;
      }
    };
    const sending = a.transport.sendSnapshot(snapshotRequest('a', 'b'), pattern(40 * 16 * KiB, 16 * KiB));
    await waitFor(() => a.transport.stats.snapshotChunksSent === 1 + window, WAIT_MS, 'the window to fill');
    // A heartbeat sent now overtakes nothing and waits behind at most the window: it arrives while b stalls.
    a.transport.send(heartbeat('a', 'b', 1));
    await waitFor(() => b.handler.messages.length === 1, WAIT_MS, 'the heartbeat during the transfer');
    expect(a.transport.stats.snapshotChunksSent).toBe(1 + window);
    expect(taken).toBe(1);
    resume.open();
    await sending;
    expect(windowViolated).toBe(false);
    expect(taken).toBe(40);
  });

  it('rejects with the receiver’s RaftError code', async () => {
    const { a, b } = await pair();
    b.handler.onSnapshotBehavior = async () => {
      throw new RaftError('CORRUPTION', 'checksum mismatch', { retryable: true });
    };
    const err = await rejectionOf(
      a.transport.sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10))),
    );
    expect(isRaftError(err, 'CORRUPTION')).toBe(true);
    expect((err as RaftError).retryable).toBe(true);
    expect((err as Error).message).toContain('checksum mismatch');
  });

  it('times out (indefinite) when the receiver never confirms, and the receiver learns of it', async () => {
    const { a, b } = await pair({
      snapshotTimeoutMs: 300,
      snapshotBytesPerSecond: 1e9,
      snapshotChunkBytes: 1000,
    });
    let streamError: unknown = null;
    b.handler.onSnapshotBehavior = async (_request, chunks) => {
      const iterator = chunks[Symbol.asyncIterator]();
      await iterator.next();
      // Sits on the data without finishing, like a stuck disk; then tries to go on.
      await waitFor(() => a.transport.stats.snapshotFailures === 1, WAIT_MS, 'the sender to give up');
      try {
        for (;;) if ((await iterator.next()).done === true) break;
      } catch (err) {
        streamError = err;
      }
    };
    const err = await rejectionOf(
      a.transport.sendSnapshot(snapshotRequest('a', 'b'), pattern(100_000, 1000)),
    );
    expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    expect((err as RaftError).indefinite).toBe(true);
    await waitFor(() => streamError !== null, WAIT_MS, "b's stream to fail after the sender's cancel");
    expect(isRaftError(streamError, 'UNREACHABLE')).toBe(true);
  });

  it('rejects with TIMEOUT when aborted, before or during the transfer', async () => {
    const { a, b } = await pair();
    const early = await rejectionOf(
      a.transport.sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10)), AbortSignal.abort()),
    );
    expect(isRaftError(early, 'TIMEOUT')).toBe(true);
    expect((early as RaftError).indefinite).toBe(false);
    const hold = gate();
    b.handler.onSnapshotBehavior = async (request, chunks) => {
      await b.handler.record(request, chunks);
      await hold.promise;
    };
    const controller = new AbortController();
    const sending = rejectionOf(
      a.transport.sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10)), controller.signal),
    );
    await waitFor(() => b.handler.snapshots.length === 1, WAIT_MS, 'b to read the data');
    controller.abort();
    const late = await sending;
    hold.open();
    expect(isRaftError(late, 'TIMEOUT')).toBe(true);
    expect((late as RaftError).indefinite).toBe(true);
  });

  it('drops AppendEntries with entries, not heartbeats, while the send buffer is over its limit', async () => {
    const { a, b } = await pair({ maxBufferedBytes: 256 * KiB });
    const data = patternBytes(0, 512 * KiB);
    const burst = 60;
    for (let i = 1; i <= burst; i++) {
      a.transport.send({
        type: 'appendRequest',
        from: 'a',
        to: 'b',
        term: 1,
        prevIndex: i - 1,
        prevTerm: 1,
        commit: 0,
        entries: [{ index: i, term: 1, type: 'command', data }],
      });
    }
    a.transport.send(heartbeat('a', 'b', 1));
    const congested = a.transport.stats.droppedReasons.congested ?? 0;
    // 30 MiB in one tick cannot all fit in the OS's socket buffer: part of it waits in Node's.
    expect(congested).toBeGreaterThan(0);
    await waitFor(
      () => b.handler.messages.length === burst - congested + 1,
      WAIT_MS,
      'the appends that were sent, and the heartbeat',
    );
    expect(b.handler.messages.filter((m) => m.type === 'heartbeatRequest')).toHaveLength(1);
  });
});
