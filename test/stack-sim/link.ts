import type { Clock } from '../../src/clock.js';
import type { Message, NodeId, SnapshotRequest } from '../../src/core/types.js';
import { RaftError } from '../../src/errors.js';
import type { InmemTransport } from '../../src/transport/inmem-transport.js';
import type {
  ForwardOptions,
  ForwardRequest,
  ForwardResponse,
  Transport,
  TransportHandler,
} from '../../src/transport/types.js';

/** The network's hostility beyond what {@link InmemNetwork} does itself (drops, delays, cuts). */
export interface LinkFaults {
  /** Probability that a message is delivered twice (each copy with its own delay). */
  duplicateRate: number;
  /** Probability that a forwarded request, or else its answer, is lost. */
  forwardLossRate: number;
  /** Probability that a forwarded request is delivered twice (the second answer is ignored). */
  forwardDuplicateRate: number;
  /** A forwarded request and its answer each take 0..maxForwardDelay ms. */
  maxForwardDelay: number;
}

/** Counts of the faults the links injected. */
export interface LinkCounts {
  duplicated: number;
  forwardsLost: number;
  answersLost: number;
  forwardsDuplicated: number;
}

/** Holds a paused process's input until it resumes, as a stopped process would leave it unread. */
export class PauseGate {
  private waiting: Array<() => void> = [];
  paused = false;

  /** Resolves at once when running, else when the process resumes. */
  passed(): Promise<void> {
    if (!this.paused) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  resume(): void {
    this.paused = false;
    const waiting = this.waiting;
    this.waiting = [];
    for (const go of waiting) go();
  }
}

/** What every link of a run shares. */
export interface LinkWorld {
  readonly faults: LinkFaults;
  readonly counts: LinkCounts;
  readonly random: { float(): number; int(bound: number): number };
  /** The network's clock: what is in flight does not die with its sender. */
  readonly clock: Clock;
}

/**
 * One process's transport: its {@link InmemTransport} with the faults the in-memory network lacks
 * (duplicate messages; lost, duplicated and delayed forwards), and a pause gate in front of its
 * handler. A crash closes the transport underneath: the network then drops whatever is addressed
 * to this process, and the process's own sends go nowhere.
 */
export class SimLink implements Transport {
  constructor(
    private readonly inner: InmemTransport,
    private readonly gate: PauseGate,
    private readonly world: LinkWorld,
  ) {}

  get localId(): NodeId {
    return this.inner.localId;
  }

  start(handler: TransportHandler): Promise<void> {
    const gate = this.gate;
    let held: Message[] = [];
    const drain = () => {
      const ready = held;
      held = [];
      for (const m of ready) handler.onMessage(m);
    };
    return this.inner.start({
      onMessage: (m) => {
        if (!gate.paused) return handler.onMessage(m);
        if (held.length === 0) gate.passed().then(drain);
        held.push(m);
      },
      onSnapshot: async (request, chunks) => {
        await gate.passed();
        return handler.onSnapshot(request, chunks);
      },
      onForward: async (request, from) => {
        await gate.passed();
        return handler.onForward(request, from);
      },
    });
  }

  send(message: Message): void {
    this.inner.send(message);
    if (this.world.random.float() < this.world.faults.duplicateRate) {
      this.world.counts.duplicated++;
      this.inner.send(message);
    }
  }

  sendSnapshot(
    request: SnapshotRequest,
    chunks: AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.inner.sendSnapshot(request, chunks, signal);
  }

  async forward(
    to: NodeId | null,
    request: ForwardRequest,
    options: ForwardOptions,
  ): Promise<ForwardResponse> {
    const { faults, random, counts, clock } = this.world;
    const started = clock.now();
    const lossDraw = random.float();
    const duplicate = random.float() < faults.forwardDuplicateRate;
    const there = random.int(faults.maxForwardDelay + 1);
    const back = random.int(faults.maxForwardDelay + 1);
    const lostRequest = lossDraw < faults.forwardLossRate / 2;
    const lostAnswer = !lostRequest && lossDraw < faults.forwardLossRate;
    if (lostRequest) {
      counts.forwardsLost++;
      return silence(options, clock);
    }
    await new Promise<void>((resolve) => clock.setTimeout(resolve, there));
    const remaining = Math.max(1, options.timeoutMs - (clock.now() - started));
    const sent = this.inner.forward(to, request, { ...options, timeoutMs: remaining });
    if (duplicate) {
      counts.forwardsDuplicated++;
      this.inner.forward(to, request, { ...options, timeoutMs: remaining }).catch(() => undefined);
    }
    if (lostAnswer) {
      counts.answersLost++;
      sent.catch(() => undefined);
      return silence({ ...options, timeoutMs: remaining }, clock);
    }
    const answer = await sent;
    await new Promise<void>((resolve) => clock.setTimeout(resolve, back));
    return answer;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** What the sender sees when its request or the answer is lost: nothing, until its deadline or abort. */
function silence(options: ForwardOptions, clock: Clock): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (reason: string) => {
      clock.clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(new RaftError('TIMEOUT', `forward: ${reason}`, { indefinite: true, retryable: true }));
    };
    const onAbort = () => fail('aborted');
    const timer = clock.setTimeout(() => fail(`no answer within ${options.timeoutMs} ms`), options.timeoutMs);
    if (options.signal?.aborted === true) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
