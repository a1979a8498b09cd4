import { seededRandom } from '../../src/core/random.js';
import { type BindingOptions, type Input, RaftBinding } from '../../src/index.js';
import type { InmemNetwork } from '../../src/transport/index.js';
import type { StreamRecord } from '../jepsen/streams.js';
import type { SimDisk } from './disk.js';
import { type LinkWorld, PauseGate, SimLink } from './link.js';
import { ProcessClock, type SimScheduler } from './scheduler.js';

/** Binding timings of every member (ms of simulated time). */
export const TIMINGS = {
  heartbeatTimeout: 100,
  electionTimeout: 300,
  rpcTimeout: 3000,
  startupTimeout: 15_000,
  closeTimeout: 3000,
  // Snapshots deliver a difference instead of log entries, which the stream check cannot place.
  snapshotThreshold: 1_000_000_000,
  snapshotInterval: 3_600_000,
};

/** What the processes of a run share. */
export interface ProcessWorld {
  readonly scheduler: SimScheduler;
  readonly network: InmemNetwork;
  readonly link: LinkWorld;
  readonly seed: number;
  /** Records an event of the run's trace. */
  readonly trace: (kind: string, detail: object) => void;
}

/** How a call into a process ended, seen from a client of it. */
export type CallResult<T> = { ok: true; value: T } | { ok: false; error: unknown } | { died: true };

const decoder = new TextDecoder();

/**
 * One member as a series of processes on one disk. `start` runs a new process (a RaftBinding on
 * the disk, with its own clock view, transport and randomness, all drawn from the run's seed);
 * `crash` ends it at once: its timers stop, its transport is cut off, its unsynced writes are lost
 * and its objects are simply dropped. Each process records the stream it observes.
 */
export class SimProcess {
  state: 'down' | 'opening' | 'up' | 'closing' = 'down';
  /** Processes started so far; the current one's number. */
  incarnation = 0;
  binding: RaftBinding | null = null;
  /** Every process's observed stream, in start order. */
  readonly streams: StreamRecord[] = [];
  private clock: ProcessClock | null = null;
  private link: SimLink | null = null;
  private gate = new PauseGate();
  private readonly deaths = new Set<() => void>();
  /** Replaced whenever a process starts or ends: callbacks of an ended process find another. */
  private life: object = {};

  constructor(
    readonly id: string,
    readonly disk: SimDisk,
    private readonly world: ProcessWorld,
    /** The member's role and the group's voter budget, as it opens with them. */
    private readonly membership: Pick<BindingOptions, 'role' | 'voters' | 'voterLossTimeout' | 'logger'> = {},
  ) {}

  get paused(): boolean {
    return this.gate.paused;
  }

  /** Up and not paused: clients may call it. */
  get serving(): boolean {
    return this.state === 'up' && !this.gate.paused;
  }

  /** Starts a process; `onOpen` hears whether open() succeeded (not called if it crashed meanwhile). */
  start(bootstrap: boolean, onOpen: (error: unknown) => void = () => undefined): void {
    if (this.state !== 'down') throw new Error(`${this.id} is ${this.state}`);
    const incarnation = ++this.incarnation;
    const life = {};
    this.life = life;
    const { scheduler, network, link, seed } = this.world;
    const clock = new ProcessClock(scheduler);
    this.clock = clock;
    this.gate = new PauseGate();
    this.link = new SimLink(network.transport(this.id), this.gate, link);
    const storage = this.disk.open(clock);
    const bytes = seededRandom(seed * 7919 + hash(this.id) * 104729 + incarnation * 13);
    const binding = new RaftBinding(
      { id: this.id, broker: 'mqtt://127.0.0.1:1', bootstrap, ...TIMINGS, ...this.membership },
      {
        openStorage: async () => storage,
        createTransport: () => this.link as SimLink,
        clock,
        random: seededRandom(seed * 31 + hash(this.id) * 7 + incarnation),
        randomBytes: (size) => Uint8Array.from({ length: size }, () => bytes.int(256)),
      },
    );
    this.binding = binding;
    this.state = 'opening';
    this.world.trace('start', { id: this.id, incarnation, bootstrap });
    binding.open().then(
      () => {
        if (this.life !== life || this.state !== 'opening') return;
        this.state = 'up';
        this.observe(binding, incarnation, life);
        this.world.trace('up', { id: this.id, incarnation });
        onOpen(null);
      },
      (err: unknown) => {
        if (this.life !== life || this.state !== 'opening') return;
        this.state = 'down';
        this.binding = null;
        void this.link?.close();
        this.world.trace('open failed', { id: this.id, incarnation, error: String(err) });
        onOpen(err);
      },
    );
  }

  /** The process dies at once: nothing it did not sync survives, and nothing it holds answers. */
  crash(): void {
    if (this.state === 'down') return;
    this.disk.crashOnNextWrite(null);
    this.clock?.kill();
    void this.link?.close();
    this.gate.resume();
    this.end();
    this.world.trace('crash', { id: this.id });
  }

  private end(): void {
    this.state = 'down';
    this.binding = null;
    this.life = {};
    for (const died of [...this.deaths]) died();
    this.deaths.clear();
  }

  /** Leaves the group gracefully (close with leave) and stops; resolves when the process ended. */
  async leave(): Promise<void> {
    const binding = this.binding;
    if (this.state !== 'up' || binding === null) return;
    const life = this.life;
    this.state = 'closing';
    this.world.trace('leave', { id: this.id });
    await binding.close({ leave: true });
    if (this.life !== life) return;
    this.clock?.kill();
    this.end();
    this.world.trace('left', { id: this.id });
  }

  pause(): void {
    this.gate.paused = true;
    this.clock?.pause();
    this.world.trace('pause', { id: this.id });
  }

  resume(): void {
    if (!this.gate.paused) return;
    this.clock?.resume();
    this.gate.resume();
    this.world.trace('resume', { id: this.id });
  }

  /**
   * Runs a client call on the current process. A call whose process dies first ends as `died`:
   * whatever it asked for may or may not have happened.
   */
  call<T>(op: (binding: RaftBinding) => Promise<T>): Promise<CallResult<T>> {
    const binding = this.binding;
    if (binding === null) return Promise.resolve({ died: true });
    return new Promise((resolve) => {
      const life = this.life;
      const died = () => resolve({ died: true });
      this.deaths.add(died);
      const settle = (result: CallResult<T>) => {
        this.deaths.delete(died);
        if (this.life === life) resolve(result);
      };
      op(binding).then(
        (value) => settle({ ok: true, value }),
        (error: unknown) => settle({ ok: false, error }),
      );
    });
  }

  /** The local state of the current process, as text. */
  localState(): Record<string, string> {
    const state = this.fsmOf(this.binding as RaftBinding).entries();
    return Object.fromEntries([...state].map(([k, v]) => [k, decoder.decode(v)]));
  }

  /** Records what this process observes: its replay, then every live change. */
  private observe(binding: RaftBinding, incarnation: number, life: object): void {
    const changes = binding.observeStateChange();
    // Read in the same synchronous step as the subscription, so no apply slips in between: the
    // replay holds one set per key of this state.
    const replayLength = this.fsmOf(binding).entries().size;
    const record: StreamRecord = { member: this.id, incarnation, replay: [], live: [] };
    this.streams.push(record);
    (async () => {
      let seen = 0;
      for await (const input of changes as AsyncIterable<Input>) {
        if (this.life !== life) return;
        const value = input.op === 'set' ? decoder.decode(input.value) : null;
        if (seen++ < replayLength) record.replay.push([input.key, value ?? '']);
        else record.live.push([input.key, value]);
      }
    })().catch(() => undefined);
  }

  /** The binding's state machine, for reads that must not wait a turn of the event loop. */
  private fsmOf(binding: RaftBinding): { entries(): Map<string, Uint8Array> } {
    return (binding as unknown as { fsm: { entries(): Map<string, Uint8Array> } }).fsm;
  }
}

/** A small stable number for a member id, to derive its random streams from the run's seed. */
function hash(id: string): number {
  let h = 0;
  for (const c of id) h = (h * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  return h % 100_003;
}
