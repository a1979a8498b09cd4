import { type Clock, systemClock } from '../clock.js';
import type { Message, NodeId, SnapshotRequest } from '../core/types.js';
import { RaftError } from '../errors.js';
import { type DelayFn, LinkFaults, type MessageFilter } from './inmem-faults.js';
import { deliverForward, type ForwardTarget } from './inmem-forward.js';
import { abortError, SnapshotTransfer } from './inmem-snapshot.js';
import { InmemTransport } from './inmem-transport.js';
import type { ForwardOptions, ForwardRequest, ForwardResponse } from './types.js';

/** Options of an {@link InmemNetwork}. */
export interface InmemNetworkOptions {
  /** Seed of the generator behind {@link InmemNetwork.setDropRate}; the same seed drops the same messages. Default 1. */
  seed?: number;
  /** Initial drop rate, in [0, 1]. Default 0. */
  dropRate?: number;
  /** Initial delivery delay. Default 0 (next microtask). */
  delay?: number | DelayFn;
  /** Called when a handler's `onMessage` throws, which the transport contract forbids. Default: only counted. */
  onHandlerError?: (error: unknown, message: Message) => void;
  /** Times delayed deliveries and forward deadlines; a simulation gives its own. Default: the system clock. */
  clock?: Clock;
}

/**
 * Why a message was dropped:
 * - `senderDown`: the sending transport is not started or already closed;
 * - `noRoute`: the addressee is unknown, not started or closed (also when it closed in flight);
 * - `cut`: a partition, cut or isolation, at send time or while in flight;
 * - `filtered`: a filter rejected it;
 * - `random`: the drop rate;
 * - `uncloneable`: `structuredClone` could not copy it.
 */
export type DropReason = 'senderDown' | 'noRoute' | 'cut' | 'filtered' | 'random' | 'uncloneable';

/** Counters of an {@link InmemNetwork}, for assertions. */
export interface InmemNetworkStats {
  /** Calls to `send`. */
  sent: number;
  /** Messages handed to a handler. */
  delivered: number;
  /** Messages lost, for any reason; `dropReasons` breaks this down. */
  dropped: number;
  readonly dropReasons: Record<DropReason, number>;
  /** Snapshot transfers that the receiver confirmed. */
  snapshots: number;
  /** Snapshot transfers that were rejected. */
  snapshotFailures: number;
  /** Handlers' `onMessage` calls that threw. */
  handlerErrors: number;
}

/**
 * An in-memory network for tests and examples: each node gets an {@link InmemTransport} from
 * {@link InmemNetwork.transport}, and tests inject faults (partitions, one-way cuts, isolation,
 * filters, a seeded drop rate, delays) that apply to every transport of the network.
 *
 * Delivery is asynchronous: on the next microtask, or after the delay when one is set. Links are
 * FIFO while the delay is constant. Messages are copied with `structuredClone` at send time, so
 * sender and receiver never share objects. Faults are judged at send time, and cuts and closes
 * again at delivery time, so a partition also loses what was in flight.
 */
export class InmemNetwork {
  /** Live counters; read them, or snapshot them with `structuredClone(network.stats)`. */
  readonly stats: InmemNetworkStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    dropReasons: { senderDown: 0, noRoute: 0, cut: 0, filtered: 0, random: 0, uncloneable: 0 },
    snapshots: 0,
    snapshotFailures: 0,
    handlerErrors: 0,
  };
  private readonly nodes = new Map<NodeId, InmemTransport>();
  private readonly faults: LinkFaults;
  private readonly transfers = new Set<SnapshotTransfer>();
  private readonly onHandlerError: ((error: unknown, message: Message) => void) | undefined;
  private readonly clock: Clock;

  constructor(options: InmemNetworkOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.faults = new LinkFaults(options.seed ?? 1);
    if (options.dropRate !== undefined) this.faults.setDropRate(options.dropRate);
    if (options.delay !== undefined) this.faults.setDelay(options.delay);
    this.onHandlerError = options.onHandlerError;
  }

  /**
   * The transport of node `id`, created on first use. Once that transport is closed, the next call
   * creates a fresh one, which is how a test restarts a node under the same address.
   */
  transport(id: NodeId): InmemTransport {
    const existing = this.nodes.get(id);
    if (existing !== undefined && !existing.closed) return existing;
    const created = new InmemTransport(id, this);
    this.nodes.set(id, created);
    return created;
  }

  // --- fault injection -----------------------------------------------------------------------

  /**
   * Carries a forwarded request (see {@link deliverForward}). It needs the links both ways, like a
   * request and its answer; broadcasts go to every running node the sender can reach. @internal
   */
  forward(
    sender: InmemTransport,
    to: NodeId | null,
    request: ForwardRequest,
    options: ForwardOptions,
  ): Promise<ForwardResponse> {
    if (!sender.running) {
      return Promise.reject(new RaftError('SHUTDOWN', `transport ${sender.localId} is not running`));
    }
    const candidates = to === null ? [...this.nodes.keys()].filter((id) => id !== sender.localId) : [to];
    const targets: ForwardTarget[] = [];
    for (const id of candidates) {
      const handler = this.nodes.get(id)?.activeHandler ?? null;
      const linked = this.faults.connected(sender.localId, id) && this.faults.connected(id, sender.localId);
      if (handler !== null && linked) targets.push({ id, handler });
    }
    return deliverForward(sender.localId, targets, request, { ...options, clock: this.clock }, to === null);
  }

  /** Cuts every link between a node of `a` and a node of `b`, both ways. Links within a side stay. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.faults.cut(x, y);
        this.faults.cut(y, x);
      }
    }
    this.recheckTransfers();
  }

  /** Cuts the link from `from` to `to` only: replies still flow the other way. */
  cut(from: NodeId, to: NodeId): void {
    this.faults.cut(from, to);
    this.recheckTransfers();
  }

  /** Cuts every link to and from `id`, including links to nodes that join later. */
  isolate(id: NodeId): void {
    this.faults.isolate(id);
    this.recheckTransfers();
  }

  /** Restores every link cut by {@link partition}, {@link cut} or {@link isolate}. Filters, drop rate and delay stay. */
  heal(): void {
    this.faults.heal();
  }

  /** Drops each message (and snapshot request) with probability `rate`, drawn from the seeded generator. */
  setDropRate(rate: number): void {
    this.faults.setDropRate(rate);
  }

  /**
   * Delays deliveries by `delay` milliseconds, or by what a function says per message. A function
   * that returns different delays reorders messages; a constant keeps links FIFO. 0 = no delay.
   */
  setDelay(delay: number | DelayFn): void {
    this.faults.setDelay(delay);
  }

  /**
   * Adds a predicate that every message (and snapshot request) must pass: return false to drop it.
   * Returns a function that removes this filter.
   */
  filter(accept: MessageFilter): () => void {
    return this.faults.addFilter(accept);
  }

  // --- used by InmemTransport ----------------------------------------------------------------

  /** Routes one message; never throws. @internal */
  dispatch(sender: InmemTransport, message: Message): void {
    this.stats.sent++;
    const lost = this.launch(sender, message);
    if (lost !== null) this.drop(lost);
  }

  /** Runs one snapshot transfer for `sender`; see {@link InmemTransport.sendSnapshot}. @internal */
  async transferSnapshot(
    sender: InmemTransport,
    request: SnapshotRequest,
    chunks: AsyncIterable<Uint8Array>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const receiver = this.nodes.get(request.to);
    const problem = (started: boolean) => this.transferProblem(sender, receiver, request, started);
    try {
      // An already aborted signal wins over every other reason.
      const early =
        signal?.aborted === true
          ? abortError(signal, false)
          : (problem(false) ?? this.judgeSnapshot(sender, request));
      if (early !== null) throw early;
      // Already ruled out by problem(); repeated so that the type narrows for `deliver` below.
      if (receiver === undefined) throw unreachable(request, 'the node is not reachable', false);
      const ends = {
        deliver: (req: SnapshotRequest, stream: AsyncIterable<Uint8Array>) =>
          receiver.receiveSnapshot(req, stream),
        problem,
        delayMs: this.faults.delayOf(request),
        clock: this.clock,
      };
      const transfer = new SnapshotTransfer(cloneRequest(request), chunks, ends, signal);
      this.transfers.add(transfer);
      try {
        await transfer.run();
      } finally {
        this.transfers.delete(transfer);
      }
      this.stats.snapshots++;
    } catch (err) {
      this.stats.snapshotFailures++;
      throw err;
    }
  }

  /** A transport closed: transfers to or from it fail. @internal */
  transportClosed(): void {
    this.recheckTransfers();
  }

  /** A handler's `onMessage` threw. @internal */
  handlerFailed(error: unknown, message: Message): void {
    this.stats.handlerErrors++;
    this.onHandlerError?.(error, message);
  }

  // --- internals -----------------------------------------------------------------------------

  /** Schedules the delivery of a copy of `message`, or says why it is lost. */
  private launch(sender: InmemTransport, message: Message): DropReason | null {
    if (!sender.running) return 'senderDown';
    const receiver = this.nodes.get(message.to);
    if (receiver === undefined || !receiver.running) return 'noRoute';
    const verdict = this.faults.judge(sender.localId, message);
    if (verdict !== null) return verdict;
    let copy: Message;
    try {
      copy = structuredClone(message);
    } catch {
      return 'uncloneable';
    }
    const deliver = () => this.deliver(sender.localId, receiver, copy);
    const delay = this.faults.delayOf(message);
    // Never synchronously: a node must not re-enter its own handler from inside its send.
    if (delay > 0) this.clock.setTimeout(deliver, delay);
    else queueMicrotask(deliver);
    return null;
  }

  private deliver(from: NodeId, receiver: InmemTransport, message: Message): void {
    // The world may have changed while the message was in flight.
    if (!receiver.running) {
      this.drop('noRoute');
    } else if (!this.faults.connected(from, receiver.localId)) {
      this.drop('cut');
    } else {
      this.stats.delivered++;
      receiver.receive(message);
    }
  }

  /** Why a snapshot transfer cannot start or go on, or null when it can. */
  private transferProblem(
    sender: InmemTransport,
    receiver: InmemTransport | undefined,
    request: SnapshotRequest,
    started: boolean,
  ): RaftError | null {
    if (sender.closed) {
      return new RaftError('SHUTDOWN', `transport ${sender.localId} is closed`, { indefinite: started });
    }
    if (!sender.running) {
      return new RaftError('UNREACHABLE', `transport ${sender.localId} is not started`, { retryable: true });
    }
    if (receiver === undefined || !receiver.running)
      return unreachable(request, 'the node is not reachable', started);
    // A transfer is a conversation: chunks flow one way and the acknowledgement the other.
    if (
      !this.faults.connected(sender.localId, request.to) ||
      !this.faults.connected(request.to, sender.localId)
    ) {
      return unreachable(request, 'the link is cut', started);
    }
    return null;
  }

  /** Filters and the drop rate apply to a snapshot's request as to any message. */
  private judgeSnapshot(sender: InmemTransport, request: SnapshotRequest): RaftError | null {
    const verdict = this.faults.judge(sender.localId, request);
    if (verdict === null) return null;
    return unreachable(
      request,
      verdict === 'cut' ? 'the link is cut' : `the request was lost (${verdict})`,
      false,
    );
  }

  private recheckTransfers(): void {
    for (const transfer of this.transfers) transfer.recheck();
  }

  private drop(reason: DropReason): void {
    this.stats.dropped++;
    this.stats.dropReasons[reason]++;
  }
}

function unreachable(request: SnapshotRequest, what: string, started: boolean): RaftError {
  return new RaftError(
    'UNREACHABLE',
    `snapshot ${request.snapshot.index}/${request.snapshot.term} to ${request.to}: ${what}`,
    {
      retryable: true,
      indefinite: started,
    },
  );
}

/** The request as the receiver gets it: a copy, as for every message. */
function cloneRequest(request: SnapshotRequest): SnapshotRequest {
  try {
    return structuredClone(request);
  } catch (err) {
    throw new RaftError('INVALID_INPUT', 'the snapshot request cannot be copied', { cause: err });
  }
}
