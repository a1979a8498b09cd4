import { afterEach, describe, expect, it } from 'vitest';
import type { AppendRequest } from '../../src/core/types.js';
import { isRaftError, type RaftError } from '../../src/errors.js';
import type { ForwardRequest, ForwardResponse, Transport } from '../../src/transport/types.js';
import {
  appendWithEntries,
  heartbeat,
  MESSAGE_KINDS,
  oneOfEachKind,
  patternBytes,
  snapshotRequest,
} from '../support/messages.js';
import { gate, rejectionOf } from '../support/promises.js';
import { RecordingHandler, streamOf } from '../support/recording-handler.js';
import { waitFor } from '../support/wait.js';

/** Transports for a set of node ids, not yet started, and how to dispose of them. */
export interface TransportCluster {
  readonly transports: Map<string, Transport>;
  close(): Promise<void>;
}

/** Builds a {@link TransportCluster} for `ids`; called once per test. */
export type TransportClusterFactory = (ids: string[]) => Promise<TransportCluster>;

/** Generous for a real broker; an in-memory transport meets every deadline at once. */
const WAIT_MS = 5000;

/**
 * The contract every {@link Transport} implementation must meet, as a vitest suite: addressing,
 * content fidelity (binary data included), per-link order, every message kind, snapshot streaming
 * and its failure modes, leader forwarding (point to point and broadcast), and close. Call it from a test file with a factory for the implementation.
 */
export function transportConformance(name: string, makeCluster: TransportClusterFactory): void {
  describe(name, () => {
    let cluster: TransportCluster | null = null;

    afterEach(async () => {
      await cluster?.close();
      cluster = null;
    });

    /** Creates the cluster and starts every transport with a recording handler. */
    async function startCluster(ids: string[] = ['a', 'b', 'c']) {
      const made = await makeCluster(ids);
      cluster = made;
      const handlers = new Map<string, RecordingHandler>();
      for (const id of ids) {
        const handler = new RecordingHandler();
        await transportOf(made, id).start(handler);
        handlers.set(id, handler);
      }
      return {
        transport: (id: string): Transport => transportOf(made, id),
        handler(id: string): RecordingHandler {
          const h = handlers.get(id);
          if (h === undefined) throw new Error(`no handler for ${id}`);
          return h;
        },
      };
    }

    it('reports the id it serves as localId', async () => {
      const c = await startCluster();
      for (const id of ['a', 'b', 'c']) expect(c.transport(id).localId).toBe(id);
    });

    it('delivers a message to exactly its addressee, with identical content and binary data as Uint8Array', async () => {
      const c = await startCluster();
      const sent = appendWithEntries('a', 'b');
      c.transport('a').send(sent);
      await waitFor(() => c.handler('b').messages.length === 1, WAIT_MS, 'b to receive the append request');
      const got = c.handler('b').messages[0] as AppendRequest;
      expect(got).toEqual(sent);
      expect(got.entries).toHaveLength(sent.entries.length);
      sent.entries.forEach((entry, i) => {
        const data = got.entries[i]?.data;
        expect(data).toBeInstanceOf(Uint8Array);
        expect(Array.from(data ?? [])).toEqual(Array.from(entry.data));
      });
      // Links are FIFO, so once c has this marker from a, it would also have any stray copy.
      const marker = heartbeat('a', 'c', 1);
      c.transport('a').send(marker);
      await waitFor(() => c.handler('c').messages.length > 0, WAIT_MS, 'c to receive the marker');
      expect(c.handler('c').messages).toEqual([marker]);
      expect(c.handler('a').messages).toEqual([]);
    });

    it('keeps the order of messages between one pair of nodes', async () => {
      const c = await startCluster(['a', 'b']);
      for (let i = 1; i <= 200; i++) c.transport('a').send(heartbeat('a', 'b', i));
      await waitFor(() => c.handler('b').messages.length === 200, WAIT_MS, '200 messages at b');
      const order = c.handler('b').messages.map((m) => (m.type === 'heartbeatRequest' ? m.commit : -1));
      expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    });

    it('carries every kind of message unchanged', async () => {
      const c = await startCluster(['a', 'b']);
      const all = oneOfEachKind('a', 'b');
      expect(new Set(all.map((m) => m.type))).toEqual(new Set(MESSAGE_KINDS));
      for (const m of all) c.transport('a').send(m);
      await waitFor(
        () => c.handler('b').messages.length === all.length,
        WAIT_MS,
        'one message of each kind at b',
      );
      expect(c.handler('b').messages).toEqual(all);
    });

    it('drops a message to an unknown node without throwing or delivering it elsewhere', async () => {
      const c = await startCluster();
      expect(() => c.transport('a').send(heartbeat('a', 'nobody', 1))).not.toThrow();
      const marker = heartbeat('a', 'b', 2);
      c.transport('a').send(marker);
      await waitFor(() => c.handler('b').messages.length > 0, WAIT_MS, 'b to receive the marker');
      expect(c.handler('b').messages).toEqual([marker]);
      expect(c.handler('a').messages).toEqual([]);
      expect(c.handler('c').messages).toEqual([]);
    });

    it('streams a multi-chunk snapshot byte-exact and resolves only after the receiver has', async () => {
      const c = await startCluster(['a', 'b']);
      const sizes = [400_000, 400_000, 1024 * 1024 - 800_000];
      const parts: Uint8Array[] = [];
      let offset = 0;
      for (const size of sizes) {
        parts.push(patternBytes(offset, size));
        offset += size;
      }
      const release = gate();
      let receiverDone = false;
      c.handler('b').onSnapshotBehavior = async (request, chunks) => {
        await c.handler('b').record(request, chunks);
        await release.promise;
        receiverDone = true;
      };
      const request = snapshotRequest('a', 'b');
      let senderSettled = false;
      const sending = c
        .transport('a')
        .sendSnapshot(request, streamOf(...parts))
        .finally(() => {
          senderSettled = true;
        });
      await waitFor(() => c.handler('b').snapshots.length === 1, WAIT_MS, 'b to read the whole snapshot');
      expect(senderSettled).toBe(false);
      release.open();
      await sending;
      expect(receiverDone).toBe(true);
      const received = c.handler('b').snapshots[0];
      expect(received?.request).toEqual(request);
      expect(received?.data.length).toBe(offset);
      expect(Buffer.from(received?.data ?? []).equals(Buffer.from(patternBytes(0, offset)))).toBe(true);
    });

    it('rejects sendSnapshot with a RaftError when the receiver fails to take it', async () => {
      const c = await startCluster(['a', 'b']);
      c.handler('b').onSnapshotBehavior = async (_request, chunks) => {
        for await (const _ of chunks) {
          // Read everything, then fail as a full disk would.
        }
        throw new Error('disk full');
      };
      const err = await rejectionOf(
        c.transport('a').sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10))),
      );
      expect(isRaftError(err)).toBe(true);
    });

    it('rejects sendSnapshot with TIMEOUT when the signal is already aborted', async () => {
      const c = await startCluster(['a', 'b']);
      const controller = new AbortController();
      controller.abort();
      const err = await rejectionOf(
        c
          .transport('a')
          .sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 10)), controller.signal),
      );
      expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    });

    it('rejects sendSnapshot with TIMEOUT when the signal aborts while the receiver works', async () => {
      const c = await startCluster(['a', 'b']);
      const release = gate();
      let receiverStarted = false;
      c.handler('b').onSnapshotBehavior = async (request, chunks) => {
        receiverStarted = true;
        await c.handler('b').record(request, chunks);
        await release.promise;
      };
      const controller = new AbortController();
      const sending = c
        .transport('a')
        .sendSnapshot(snapshotRequest('a', 'b'), streamOf(patternBytes(0, 1000)), controller.signal);
      await waitFor(() => receiverStarted, WAIT_MS, 'b to start receiving');
      controller.abort();
      const err = await rejectionOf(sending);
      release.open();
      expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    });

    it('rejects sendSnapshot to an unknown node with a RaftError', async () => {
      const c = await startCluster(['a', 'b']);
      const err = await rejectionOf(
        c
          .transport('a')
          .sendSnapshot(
            snapshotRequest('a', 'nobody'),
            streamOf(patternBytes(0, 10)),
            AbortSignal.timeout(WAIT_MS),
          ),
      );
      expect(isRaftError(err)).toBe(true);
    });

    // multicast is optional in the interface; both transports of this project implement it, and
    // the suite holds them to it.
    it('multicasts to exactly its recipients, each reading the message as addressed to itself', async () => {
      const c = await startCluster(['a', 'b', 'c', 'd', 'e']);
      const multicast = c.transport('a').multicast?.bind(c.transport('a'));
      expect(multicast).toBeTypeOf('function');
      const sent = appendWithEntries('a', '');
      multicast?.(['b', 'c', 'd'], sent);
      for (const id of ['b', 'c', 'd']) {
        await waitFor(() => c.handler(id).messages.length === 1, WAIT_MS, `${id} to receive the multicast`);
        expect(c.handler(id).messages).toEqual([{ ...sent, to: id }]);
      }
      // e is not a recipient: a marker on a's link to e shows what e was sent.
      const marker = heartbeat('a', 'e', 1);
      c.transport('a').send(marker);
      await waitFor(() => c.handler('e').messages.length > 0, WAIT_MS, 'e to receive the marker');
      expect(c.handler('e').messages).toEqual([marker]);
      expect(c.handler('a').messages).toEqual([]);
    });

    it('delivers nothing more to a closed node, and its sends neither throw nor arrive', async () => {
      const c = await startCluster();
      await c.transport('b').close();
      c.transport('a').send(heartbeat('a', 'b', 1));
      expect(() => c.transport('b').send(heartbeat('b', 'a', 2))).not.toThrow();
      // The marker to c shares a link with the message to b, so that one had its chance to arrive. The
      // marker to a comes from c, a different link: for b's own send this is a weaker, best-effort check.
      const toC = heartbeat('a', 'c', 3);
      const toA = heartbeat('c', 'a', 4);
      c.transport('a').send(toC);
      c.transport('c').send(toA);
      await waitFor(
        () => c.handler('c').messages.length > 0 && c.handler('a').messages.length > 0,
        WAIT_MS,
        'both markers',
      );
      expect(c.handler('b').messages).toEqual([]);
      expect(c.handler('c').messages).toEqual([toC]);
      expect(c.handler('a').messages).toEqual([toA]);
      const err = await rejectionOf(
        c
          .transport('a')
          .sendSnapshot(
            snapshotRequest('a', 'b'),
            streamOf(patternBytes(0, 10)),
            AbortSignal.timeout(WAIT_MS),
          ),
      );
      expect(isRaftError(err)).toBe(true);
      await expect(c.transport('b').close()).resolves.toBeUndefined();
    });

    describe('forward', () => {
      const apply = (seq: number): ForwardRequest => ({
        kind: 'apply',
        origin: 'a',
        incarnation: 'i1',
        seq,
        data: new Uint8Array([1, 2, 3, 0, 255]),
      });
      const never = () => new Promise<ForwardResponse>(() => undefined);

      it('delivers a point-to-point request to its addressee and resolves with the answer', async () => {
        const c = await startCluster();
        c.handler('b').onForwardBehavior = async (request, from) => ({
          ok: true,
          index: 42,
          response: { from, kind: request.kind, bytes: new Uint8Array([9, 8]) },
        });
        const answer = await c.transport('a').forward('b', apply(1), { timeoutMs: WAIT_MS });
        expect(answer).toEqual({
          ok: true,
          index: 42,
          response: { from: 'a', kind: 'apply', bytes: new Uint8Array([9, 8]) },
        });
        expect(c.handler('b').forwards).toEqual([{ request: apply(1), from: 'a' }]);
        expect(c.handler('c').forwards).toEqual([]);
        expect(c.handler('a').forwards).toEqual([]);
      });

      it('carries every kind of forwarded request unchanged', async () => {
        const c = await startCluster(['a', 'b']);
        c.handler('b').onForwardBehavior = async () => ({ ok: true, index: 1 });
        const requests: ForwardRequest[] = [
          apply(1),
          { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: 2 },
          { kind: 'addVoter', origin: 'a', incarnation: 'i1', seq: 3, id: 'd', prevIndex: 7 },
          { kind: 'addNonvoter', origin: 'a', incarnation: 'i1', seq: 4, id: 'e' },
          { kind: 'demoteVoter', origin: 'a', incarnation: 'i1', seq: 5, id: 'd' },
          { kind: 'removeServer', origin: 'a', incarnation: 'i1', seq: 6, id: 'e', prevIndex: 0 },
        ];
        for (const r of requests) {
          await expect(c.transport('a').forward('b', r, { timeoutMs: WAIT_MS })).resolves.toEqual({
            ok: true,
            index: 1,
          });
        }
        expect(c.handler('b').forwards.map((f) => f.request)).toEqual(requests);
      });

      it('passes an error answer through unchanged', async () => {
        const c = await startCluster(['a', 'b']);
        const answer: ForwardResponse = {
          ok: false,
          error: { code: 'NOT_LEADER', message: 'ask c', retryable: true, indefinite: false, leader: 'c' },
        };
        c.handler('b').onForwardBehavior = async () => answer;
        await expect(c.transport('a').forward('b', apply(1), { timeoutMs: WAIT_MS })).resolves.toEqual(
          answer,
        );
      });

      it('resolves a broadcast with the ok answer, ignoring servers that know no leader', async () => {
        const c = await startCluster(['a', 'b', 'c', 'd']);
        c.handler('c').onForwardBehavior = async () => ({ ok: true, index: 7 });
        const answer = await c.transport('a').forward(null, apply(1), { timeoutMs: WAIT_MS });
        expect(answer).toEqual({ ok: true, index: 7 });
        expect(c.handler('c').forwards).toEqual([{ request: apply(1), from: 'a' }]);
        expect(c.handler('a').forwards).toEqual([]);
      });

      it('resolves a broadcast with a NOT_LEADER answer that names the leader', async () => {
        const c = await startCluster();
        const hint: ForwardResponse = {
          ok: false,
          error: {
            code: 'NOT_LEADER',
            message: 'not the leader',
            retryable: true,
            indefinite: false,
            leader: 'c',
          },
        };
        c.handler('b').onForwardBehavior = async () => hint;
        await expect(c.transport('a').forward(null, apply(1), { timeoutMs: WAIT_MS })).resolves.toEqual(hint);
      });

      it('rejects with an indefinite TIMEOUT when the addressee never answers', async () => {
        const c = await startCluster(['a', 'b']);
        c.handler('b').onForwardBehavior = never;
        const started = Date.now();
        const err = await rejectionOf(c.transport('a').forward('b', apply(1), { timeoutMs: 200 }));
        expect(isRaftError(err, 'TIMEOUT')).toBe(true);
        expect((err as RaftError).indefinite).toBe(true);
        // Bounded by the call's timeout, not by some fixed transport default.
        expect(Date.now() - started).toBeLessThan(WAIT_MS);
        expect(c.handler('b').forwards).toHaveLength(1);
      });

      it('rejects a broadcast nobody useful answers with TIMEOUT', async () => {
        const c = await startCluster();
        const err = await rejectionOf(c.transport('a').forward(null, apply(1), { timeoutMs: 200 }));
        expect(isRaftError(err, 'TIMEOUT')).toBe(true);
      });

      it('rejects with TIMEOUT when the signal aborts while waiting for the answer', async () => {
        const c = await startCluster(['a', 'b']);
        c.handler('b').onForwardBehavior = never;
        const controller = new AbortController();
        const pending = c
          .transport('a')
          .forward('b', apply(1), { timeoutMs: 60_000, signal: controller.signal });
        await waitFor(() => c.handler('b').forwards.length === 1, WAIT_MS, 'b to receive the request');
        controller.abort();
        const err = await rejectionOf(pending);
        expect(isRaftError(err, 'TIMEOUT')).toBe(true);
        expect((err as RaftError).indefinite).toBe(true);
      });

      it('rejects with SHUTDOWN after close', async () => {
        const c = await startCluster(['a', 'b']);
        await c.transport('a').close();
        const err = await rejectionOf(c.transport('a').forward('b', apply(1), { timeoutMs: WAIT_MS }));
        expect(isRaftError(err, 'SHUTDOWN')).toBe(true);
        expect(c.handler('b').forwards).toEqual([]);
      });
    });
  });
}

function transportOf(cluster: TransportCluster, id: string): Transport {
  const t = cluster.transports.get(id);
  if (t === undefined) throw new Error(`the cluster has no transport for ${id}`);
  return t;
}
