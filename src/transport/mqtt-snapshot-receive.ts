import type { NodeId, SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { MqttLink, RpcStats } from './mqtt-link.js';
import { describe, fromWire, toWire } from './mqtt-link.js';
import type { ControlBody } from './mqtt-schemas.js';
import type { TransportHandler, WireError } from './types.js';

/**
 * Open incoming transfers one sender may hold: a leader sends one snapshot at a time to a
 * follower; the second allows a retry while the receiver has not yet noticed the first one died.
 */
export const MAX_TRANSFERS_PER_SENDER = 2;
/** Open incoming transfers in total, whoever sends them (design §7: bound what senders make us hold). */
export const MAX_TRANSFERS = 8;

/**
 * Why a new transfer from `from` must be refused given the transfers open now, or null when it
 * may begin.
 */
export function transferLimitProblem(open: Iterable<SnapshotReceive>, from: NodeId): string | null {
  let total = 0;
  let fromSender = 0;
  for (const t of open) {
    total++;
    if (t.from === from) fromSender++;
  }
  if (fromSender >= MAX_TRANSFERS_PER_SENDER)
    return `${from} already has ${fromSender} snapshot transfers open (at most ${MAX_TRANSFERS_PER_SENDER})`;
  if (total >= MAX_TRANSFERS) return `${total} snapshot transfers are open (at most ${MAX_TRANSFERS})`;
  return null;
}

/** Answers a transfer that was never opened with a failed result, so its sender stops at once. */
export function refuseTransfer(link: MqttLink, id: string, from: NodeId, message: string): void {
  const error: WireError = { code: 'UNREACHABLE', message, retryable: true, indefinite: false, leader: null };
  const b = { ok: false, error };
  link
    .publish(
      link.topics.replyOf(from),
      { k: 'snapshotResult', id, f: link.localId, t: from, c: link.cluster, b },
      1,
    )
    .catch((err: unknown) => link.logger.debug({ error: describe(err) }, 'snapshotResult could not be sent'));
}

/**
 * One incoming snapshot transfer. `handler.onSnapshot` gets the request as soon as
 * `snapshotBegin` arrives, with a stream that yields the chunks as they come; each chunk taken
 * from the stream is acknowledged (`snapshotAck`), which opens the sender's window, so at most a
 * window of chunks waits here however slowly the node reads. Once the handler settles, the
 * outcome goes back as `snapshotResult`.
 *
 * A chunk out of sequence (lost or reordered) fails the transfer with `CORRUPTION`; a sender that
 * cancels, a lost connection, or no chunk for `idleTimeoutMs` while the node waits for one fails it
 * with `UNREACHABLE`. The stream then throws, and a failed result is sent at once.
 */
export class SnapshotReceive {
  private readonly queue: Uint8Array[] = [];
  private nextSeq = 0;
  private taken = 0;
  private ended = false;
  private failure: RaftError | null = null;
  /** Set once a result went out (or must not: the sender cancelled). */
  private answered = false;
  private wake: (() => void) | null = null;
  private readonly what: string;

  constructor(
    private readonly link: MqttLink,
    private readonly stats: RpcStats,
    readonly id: string,
    readonly from: NodeId,
    private readonly request: SnapshotRequest,
    private readonly idleTimeoutMs: number,
  ) {
    this.what = `snapshot ${request.snapshot.index}/${request.snapshot.term} from ${from}`;
  }

  /** Hands the transfer to the node; resolves once it is over either way. Never rejects. */
  async run(handler: TransportHandler): Promise<void> {
    try {
      await handler.onSnapshot(this.request, this.stream());
      if (this.failure !== null) {
        // The node swallowed the stream's error: the snapshot cannot be complete.
        this.answer({ ok: false, error: this.wireFailure(this.failure) });
      } else {
        this.stats.snapshotsReceived++;
        this.answer({ ok: true });
      }
    } catch (err) {
      this.answer({ ok: false, error: this.wireFailure(err) });
    }
  }

  /** A chunk arrived. */
  onChunk(body: ControlBody<'snapshotChunk'>): void {
    if (this.failure !== null || this.ended) return;
    if (body.seq !== this.nextSeq) {
      this.fail(
        new RaftError('CORRUPTION', `${this.what}: chunk ${body.seq} arrived where ${this.nextSeq} was due`, {
          retryable: true,
        }),
      );
      return;
    }
    this.stats.snapshotChunksReceived++;
    this.nextSeq++;
    this.queue.push(body.data);
    if (body.last) this.ended = true;
    this.notify();
  }

  /** The sender gave up: the node's stream fails, and no result is sent back. */
  onCancel(body: ControlBody<'snapshotCancel'>): void {
    this.answered = true;
    this.fail(fromWire({ ...body.error, code: 'UNREACHABLE' }, `${this.what}: the sender gave up`));
  }

  /** Fails the transfer; the first failure wins. A failed result goes back unless the sender cancelled. */
  fail(err: RaftError): void {
    if (this.failure !== null) return;
    this.failure = err;
    this.queue.length = 0;
    this.notify();
    this.answer({ ok: false, error: this.wireFailure(err) });
  }

  private async *stream(): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        this.taken++;
        this.ack();
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await this.nextEvent();
    }
  }

  /** Waits for a chunk or a failure, failing the transfer after `idleTimeoutMs` without either. */
  private async nextEvent(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      timer = setTimeout(() => {
        this.fail(
          new RaftError('UNREACHABLE', `${this.what}: no data for ${this.idleTimeoutMs} ms`, {
            retryable: true,
          }),
        );
      }, this.idleTimeoutMs);
    });
    clearTimeout(timer);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private ack(): void {
    this.publishReply('snapshotAck', { next: this.taken });
  }

  private answer(body: ControlBody<'snapshotResult'>): void {
    if (this.answered) return;
    this.answered = true;
    if (!body.ok) this.stats.snapshotFailures++;
    this.publishReply('snapshotResult', body);
  }

  private publishReply(k: 'snapshotAck' | 'snapshotResult', b: unknown): void {
    const { link } = this;
    link
      .publish(
        link.topics.replyOf(this.from),
        { k, id: this.id, f: link.localId, t: this.from, c: link.cluster, b },
        1,
      )
      .catch((err: unknown) => link.logger.debug({ error: describe(err) }, `${k} could not be sent`));
  }

  private wireFailure(err: unknown): WireError {
    return toWire(err, { code: 'UNREACHABLE', retryable: true, indefinite: false });
  }
}
