import { type Clock, sleep } from '../clock.js';
import type { SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';

/** What a {@link SnapshotTransfer} needs from the network that runs it. */
export interface TransferEnds {
  /** Hands the request and the chunk stream to the receiver; settles when the receiver's handler does. */
  deliver(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * Why the transfer can no longer go on (a closed end, a cut link), or null when it can.
   * `started` says whether the receiver already has the request, which makes a failure indefinite.
   */
  problem(started: boolean): RaftError | null;
  /** Milliseconds to wait before the receiver gets the request. */
  readonly delayMs: number;
  /** Times that wait. */
  readonly clock: Clock;
}

/**
 * One snapshot on its way between two in-memory transports. The receiver pulls the chunks through
 * a relay that copies each one and re-checks the link, so a partition or close in the middle of a
 * transfer fails it, as it would over a real network. The sender's promise settles once: with the
 * first failure, or when the receiver's handler resolves.
 */
export class SnapshotTransfer {
  private failure: RaftError | null = null;
  private started = false;
  private finished = false;
  private readonly failed: Promise<never>;
  private rejectFailed: (err: RaftError) => void = () => undefined;

  constructor(
    private readonly request: SnapshotRequest,
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly ends: TransferEnds,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailed = reject;
    });
    // Raced below; when the transfer wins the race nobody awaits this promise.
    this.failed.catch(() => undefined);
  }

  /** Runs the transfer; the returned promise is what `sendSnapshot` returns. */
  async run(): Promise<void> {
    const onAbort = () => this.fail(abortError(this.signal, this.started));
    if (this.signal?.aborted) onAbort();
    this.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([this.transfer(), this.failed]);
    } finally {
      this.finished = true;
      this.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Fails the transfer if its ends can no longer talk; the network calls it when faults or ends change. */
  recheck(): void {
    const problem = this.ends.problem(this.started);
    if (problem !== null) this.fail(problem);
  }

  private fail(err: RaftError): void {
    if (this.failure !== null || this.finished) return;
    this.failure = err;
    this.rejectFailed(err);
  }

  /** Throws the failure if there is one, first looking for a new one. */
  private ensureAlive(): void {
    this.recheck();
    if (this.failure !== null) throw this.failure;
  }

  private async transfer(): Promise<void> {
    if (this.ends.delayMs > 0) await sleep(this.ends.clock, this.ends.delayMs);
    this.ensureAlive();
    this.started = true;
    try {
      await this.ends.deliver(this.request, this.relay());
    } catch (err) {
      // A receiver that fails because the relay threw reports our own failure back; keep ours.
      throw this.failure ?? receiverError(this.request, err);
    }
    // The receiver is done, but its acknowledgement still has to get back to the sender.
    this.ensureAlive();
  }

  /** Streams the sender's chunks to the receiver, copied, checking the link before each one. */
  private async *relay(): AsyncGenerator<Uint8Array, void, undefined> {
    const iterator = this.source[Symbol.asyncIterator]();
    let exhausted = false;
    try {
      for (;;) {
        this.ensureAlive();
        let step: IteratorResult<Uint8Array>;
        try {
          step = await iterator.next();
        } catch (err) {
          exhausted = true;
          this.fail(sourceError(err));
          throw this.failure;
        }
        if (step.done === true) {
          exhausted = true;
          return;
        }
        this.ensureAlive();
        if (!(step.value instanceof Uint8Array)) {
          this.fail(new RaftError('INVALID_INPUT', 'snapshot chunks must be Uint8Arrays'));
          throw this.failure;
        }
        // A fresh exact-length copy: the sender may reuse its buffer, and a Buffer may be a pool slice.
        yield new Uint8Array(step.value);
      }
    } finally {
      // Stopped early (receiver done, or a failure): let the sender release what it holds.
      if (!exhausted) await iterator.return?.().catch(() => undefined);
    }
  }
}

/** The error of a transfer given up on because its signal aborted; the reason is kept as `cause`. */
export function abortError(signal: AbortSignal | undefined, started: boolean): RaftError {
  return new RaftError('TIMEOUT', 'snapshot transfer aborted', {
    indefinite: started,
    cause: signal?.reason,
  });
}

/**
 * The receiver's failure as the sender sees it. A `RaftError` keeps its code and retryability, as
 * it would crossing a real wire in a response envelope; anything else means the peer could not take
 * the snapshot this time, so a later attempt may succeed.
 */
function receiverError(request: SnapshotRequest, err: unknown): RaftError {
  const text = `snapshot ${request.snapshot.index}/${request.snapshot.term} rejected by ${request.to}: ${describe(err)}`;
  if (err instanceof RaftError) {
    return new RaftError(err.code, text, {
      retryable: err.retryable,
      indefinite: err.indefinite,
      cause: err,
    });
  }
  return new RaftError('UNREACHABLE', text, { retryable: true, cause: err });
}

/** A failure reading the sender's own chunks: passed on as is when already a `RaftError`. */
function sourceError(err: unknown): RaftError {
  if (err instanceof RaftError) return err;
  return new RaftError('INVALID_INPUT', `snapshot data could not be read: ${describe(err)}`, { cause: err });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
