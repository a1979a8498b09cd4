import type { SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { MqttLink, RpcStats } from './mqtt-link.js';
import { describe, fromWire, toWire } from './mqtt-link.js';
import type { ControlBody } from './mqtt-schemas.js';

/** Limits of one outgoing transfer. */
export interface SendLimits {
  readonly chunkBytes: number;
  readonly window: number;
  readonly timeoutMs: number;
  readonly bytesPerSecond: number;
}

/**
 * One outgoing snapshot transfer (docs/protocol.md, "Snapshots"): `snapshotBegin`, then numbered
 * `snapshotChunk`s of at most `chunkBytes`, all QoS 1 to the receiver's inbox. At most `window`
 * chunks are unacknowledged at a time, so a transfer never floods the client's outgoing buffer and
 * heartbeats published meanwhile wait behind at most `window` chunks. The receiver acknowledges
 * progress (`snapshotAck`) and the outcome (`snapshotResult`) on this node's reply inbox.
 *
 * The transfer must end within `timeoutMs` plus the time the bytes sent so far take at
 * `bytesPerSecond`; the deadline moves as data goes out, so no size needs to be known up front.
 */
export class SnapshotSend {
  readonly id: string;
  private started = false;
  private acked = 0;
  private bytesSent = 0;
  private outcome: 'pending' | 'ok' | 'failed' = 'pending';
  private failure: RaftError | null = null;
  private receiverDone = false;
  private readonly waiters = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly startedAt = Date.now();
  private readonly what: string;

  constructor(
    private readonly link: MqttLink,
    private readonly stats: RpcStats,
    private readonly limits: SendLimits,
    private readonly request: SnapshotRequest,
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.id = link.nextId();
    this.what = `snapshot ${request.snapshot.index}/${request.snapshot.term} to ${request.to}`;
  }

  /** Runs the transfer to its end; settles once, with the first failure or the receiver's ok. */
  async run(): Promise<void> {
    const onAbort = () =>
      this.fail(
        new RaftError('TIMEOUT', `${this.what}: aborted`, {
          indefinite: this.started,
          cause: this.signal?.reason,
        }),
      );
    this.signal?.addEventListener('abort', onAbort, { once: true });
    this.armTimer();
    try {
      const transfer = this.transfer();
      // The source may hang in `next()`; a failure must not wait for it.
      transfer.catch(() => undefined);
      await Promise.race([transfer, this.until(() => this.outcome !== 'pending')]);
      if (this.failure !== null) throw this.failure;
      this.stats.snapshotsSent++;
    } catch (err) {
      this.stats.snapshotFailures++;
      if (this.started && !this.receiverDone) this.cancel(err);
      throw err;
    } finally {
      this.signal?.removeEventListener('abort', onAbort);
      if (this.timer !== null) clearTimeout(this.timer);
    }
  }

  /** The receiver has handed chunks 0 … next-1 to its node. */
  onAck(body: ControlBody<'snapshotAck'>): void {
    if (body.next > this.acked) {
      this.acked = body.next;
      this.notify();
    }
  }

  /** The receiver's outcome. */
  onResult(body: ControlBody<'snapshotResult'>): void {
    if (this.outcome !== 'pending') return;
    this.receiverDone = true;
    if (body.ok) {
      this.outcome = 'ok';
      this.notify();
    } else {
      this.fail(fromWire(body.error, `${this.what} rejected`));
    }
  }

  /** Fails the transfer (connection lost, transport closed, timeout, …); later calls do nothing. */
  fail(err: RaftError): void {
    if (this.outcome !== 'pending') return;
    this.outcome = 'failed';
    this.failure = err;
    this.notify();
  }

  /** The receiving member. */
  get target(): string {
    return this.request.to;
  }

  /** Whether the receiver may already have the request: a failure from here on is indefinite. */
  get begun(): boolean {
    return this.started;
  }

  private async transfer(): Promise<void> {
    const { link, request } = this;
    const to = link.topics.inboxOf(request.to);
    const { type: _type, from: _from, to: _to, ...begin } = request;
    const publish = (k: 'snapshotBegin' | 'snapshotChunk', b: unknown) =>
      link
        .publish(to, { k, id: this.id, f: link.localId, t: request.to, c: link.cluster, b }, 1)
        .catch((err) => {
          this.fail(
            new RaftError('UNREACHABLE', `${this.what}: publish failed: ${describe(err)}`, {
              retryable: true,
              indefinite: true,
              cause: err,
            }),
          );
        });
    this.started = true;
    void publish('snapshotBegin', begin);
    let seq = 0;
    try {
      for await (const piece of pieces(this.source, this.limits.chunkBytes)) {
        await this.until(() => seq < this.acked + this.limits.window);
        if (this.outcome !== 'pending') return;
        this.bytesSent += piece.data.byteLength;
        this.stats.snapshotChunksSent++;
        void publish('snapshotChunk', { seq, data: piece.data, last: piece.last });
        seq++;
      }
    } catch (err) {
      this.fail(
        err instanceof RaftError
          ? err
          : new RaftError('INVALID_INPUT', `${this.what}: the data could not be read: ${describe(err)}`, {
              cause: err,
            }),
      );
    }
    await this.until(() => false);
  }

  /** Resolves when `condition` holds or the transfer has an outcome. */
  private async until(condition: () => boolean): Promise<void> {
    while (this.outcome === 'pending' && !condition()) {
      await new Promise<void>((resolve) => {
        this.waiters.add(resolve);
      });
    }
  }

  private notify(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  private deadline(): number {
    return this.startedAt + this.limits.timeoutMs + (this.bytesSent * 1000) / this.limits.bytesPerSecond;
  }

  private armTimer(): void {
    const left = this.deadline() - Date.now();
    if (left > 0) {
      this.timer = setTimeout(() => this.armTimer(), Math.ceil(left));
      return;
    }
    this.timer = null;
    const spent = Date.now() - this.startedAt;
    this.fail(
      new RaftError(
        'TIMEOUT',
        `${this.what}: not confirmed after ${spent} ms (${this.bytesSent} bytes sent)`,
        {
          indefinite: this.started,
          retryable: true,
        },
      ),
    );
  }

  /** Tells the receiver to stop waiting for chunks; best effort. */
  private cancel(err: unknown): void {
    const { link, request } = this;
    const error = toWire(err, { code: 'UNREACHABLE', retryable: true, indefinite: true });
    void link
      .publish(
        link.topics.inboxOf(request.to),
        { k: 'snapshotCancel', id: this.id, f: link.localId, t: request.to, c: link.cluster, b: { error } },
        1,
      )
      .catch(() => undefined);
  }
}

/**
 * Cuts the source into fresh pieces of exactly `max` bytes (the last one may be shorter) and marks
 * the last one; an empty source becomes one empty last piece. Pieces are copies, so a source that
 * reuses its buffers cannot change data waiting in the window.
 */
export async function* pieces(
  source: AsyncIterable<Uint8Array>,
  max: number,
): AsyncGenerator<{ data: Uint8Array; last: boolean }, void, undefined> {
  let held: Uint8Array | null = null;
  let fill = new Uint8Array(max);
  let filled = 0;
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array))
      throw new RaftError('INVALID_INPUT', 'snapshot chunks must be Uint8Arrays');
    let at = 0;
    while (at < chunk.byteLength) {
      const n = Math.min(max - filled, chunk.byteLength - at);
      fill.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === max) {
        if (held !== null) yield { data: held, last: false };
        held = fill;
        fill = new Uint8Array(max);
        filled = 0;
      }
    }
  }
  if (filled > 0) {
    if (held !== null) yield { data: held, last: false };
    yield { data: fill.slice(0, filled), last: true };
  } else {
    yield { data: held ?? new Uint8Array(0), last: true };
  }
}
