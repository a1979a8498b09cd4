import type { MulticastMessage } from '../core/multicast.js';
import type { Message, NodeId, SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { InmemNetwork } from './inmem-network.js';
import type {
  ForwardOptions,
  ForwardRequest,
  ForwardResponse,
  Transport,
  TransportHandler,
} from './types.js';

/**
 * A {@link Transport} over an {@link InmemNetwork}, for tests and examples. Get one with
 * `network.transport(id)`; the network's fault injection applies to it.
 *
 * - `send` delivers asynchronously, a `structuredClone` of the message, FIFO per link unless a
 *   varying delay is set. Messages to unknown, unstarted or closed nodes, or across cuts, are
 *   dropped silently and counted in `network.stats`; so are sends before `start` or after `close`.
 * - `sendSnapshot` streams copies of the chunks to the receiver's `onSnapshot` and resolves when
 *   that resolves. It rejects with `UNREACHABLE` (retryable) when the receiver cannot be reached or
 *   the link is cut in either direction, at the start or during the transfer; with the receiver's
 *   error wrapped in a `RaftError` (as `cause`) when `onSnapshot` rejects; with `TIMEOUT` when
 *   `signal` aborts; with `SHUTDOWN` when this transport closes meanwhile. Failures after the
 *   receiver got the request are `indefinite`: it may still install the snapshot.
 * - `close` stops delivery both ways at once, including messages already in flight to this node.
 */
export class InmemTransport implements Transport {
  private handler: TransportHandler | null = null;
  private isClosed = false;

  /** Use `network.transport(id)` rather than this constructor. */
  constructor(
    readonly localId: NodeId,
    private readonly network: InmemNetwork,
  ) {}

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** True between {@link start} and {@link close}: only then does this transport send and receive. */
  get running(): boolean {
    return this.handler !== null && !this.isClosed;
  }

  /** Begins delivering to `handler`. Rejects with `SHUTDOWN` after close and `INVALID_INPUT` when started twice. */
  async start(handler: TransportHandler): Promise<void> {
    if (this.isClosed) throw new RaftError('SHUTDOWN', `transport ${this.localId} is closed`);
    if (this.handler !== null)
      throw new RaftError('INVALID_INPUT', `transport ${this.localId} is already started`);
    this.handler = handler;
  }

  /** Sends `message` to `message.to`; never throws, never waits. */
  send(message: Message): void {
    this.network.dispatch(this, message);
  }

  /**
   * Delivers `message` to each recipient as addressed to it, each delivery on its own with the
   * network's faults: what a multicast through a broker amounts to (docs/protocol.md §3).
   */
  multicast(recipients: readonly NodeId[], message: MulticastMessage): void {
    for (const to of recipients) this.network.dispatch(this, { ...message, to });
  }

  /** Streams a snapshot to `request.to`; see the class description for how it settles. */
  sendSnapshot(
    request: SnapshotRequest,
    chunks: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.network.transferSnapshot(this, request, chunks, signal);
  }

  /** Forwards a client operation; a cut link or a stopped receiver rejects with `UNREACHABLE`. */
  forward(to: NodeId | null, request: ForwardRequest, options: ForwardOptions): Promise<ForwardResponse> {
    return this.network.forward(this, to, request, options);
  }

  /** The handler while running, else null. @internal */
  get activeHandler(): TransportHandler | null {
    return this.isClosed ? null : this.handler;
  }

  /** Stops sending and receiving; snapshot transfers to or from this node fail. Closing again does nothing. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.handler = null;
    this.network.transportClosed();
  }

  /** Hands a delivered message to the handler, which must not throw. @internal */
  receive(message: Message): void {
    if (this.handler === null) return;
    try {
      this.handler.onMessage(message);
    } catch (err) {
      this.network.handlerFailed(err, message);
    }
  }

  /** Hands a snapshot to the handler; a synchronous throw becomes a rejection. @internal */
  async receiveSnapshot(request: SnapshotRequest, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.handler === null) throw new RaftError('UNREACHABLE', `transport ${this.localId} is not running`);
    await this.handler.onSnapshot(request, chunks);
  }
}
