import {
  type Configuration,
  type CoreOptions,
  type Entry,
  type Message,
  type MessageType,
  RaftCore,
  seededRandom,
} from '../../src/core/index.js';
import { MemStorage } from './storage.js';

/** One server in a test cluster: a core, its storage, and what it has applied. */
export class TestNode {
  core: RaftCore;
  readonly storage: MemStorage;
  applied: Entry[] = [];

  constructor(
    readonly id: string,
    config: Configuration,
    private readonly makeCore: (storage: MemStorage) => RaftCore,
  ) {
    this.storage = new MemStorage({ index: 0, term: 0, config, configIndex: 0 });
    this.core = makeCore(this.storage);
  }

  /** Runs one Ready through the contract: persist, collect messages, apply, advance. */
  processReady(): Message[] {
    if (!this.core.hasReady()) return [];
    const ready = this.core.ready();
    this.storage.persist(ready);
    this.applied.push(...ready.committedEntries);
    this.core.advance(ready);
    return [...ready.earlyMessages, ...ready.messages];
  }

  /** Loses everything not persisted and starts a fresh core from storage. */
  restart(): void {
    this.core = this.makeCore(this.storage);
    // The restarted state machine is rebuilt from the snapshot; the core re-applies what follows it.
    this.applied = this.applied.filter((e) => e.index <= this.storage.snapshot.index);
  }
}

/** A filter on delivery: return false to drop the message. */
export type MessageFilter = (m: Message) => boolean;

/**
 * A synchronous in-memory cluster for scenario tests: messages are delivered in order, instantly,
 * until nothing is left to do. Faults are filters on delivery.
 */
export class TestCluster {
  readonly nodes = new Map<string, TestNode>();
  private filters: MessageFilter[] = [];
  /** Every message delivered so far, for assertions. */
  readonly delivered: Message[] = [];

  constructor(ids: readonly string[], options: Partial<CoreOptions> = {}, seed = 1) {
    const config: Configuration = { servers: ids.map((id) => ({ id, suffrage: 'voter' })) };
    ids.forEach((id, i) => {
      const random = seededRandom(seed * 1000 + i);
      this.nodes.set(
        id,
        new TestNode(
          id,
          config,
          (storage) => new RaftCore({ ...options, id, random }, storage.initialState()),
        ),
      );
    });
  }

  node(id: string): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: string): RaftCore {
    return this.node(id).core;
  }

  /** Adds a delivery filter; returns a function that removes it. */
  filter(f: MessageFilter): () => void {
    this.filters.push(f);
    return () => {
      this.filters = this.filters.filter((g) => g !== f);
    };
  }

  /** Drops every message to and from `id`. */
  isolate(id: string): () => void {
    return this.filter((m) => m.from !== id && m.to !== id);
  }

  /** Drops every message between the two groups. */
  partition(a: readonly string[], b: readonly string[]): () => void {
    const cut = (x: string, y: string) =>
      (a.includes(x) && b.includes(y)) || (b.includes(x) && a.includes(y));
    return this.filter((m) => !cut(m.from, m.to));
  }

  /** Drops every message of the given types. */
  ignore(...types: MessageType[]): () => void {
    return this.filter((m) => !types.includes(m.type));
  }

  heal(): void {
    this.filters = [];
  }

  /** Delivers `m` (and everything it causes) unless a filter drops it. */
  send(m: Message): void {
    this.deliver([m]);
    this.stabilize();
  }

  /** Processes readies and delivers messages until the cluster is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const out: Message[] = [];
      for (const n of this.nodes.values()) out.push(...n.processReady());
      // Done when nothing is in flight and no core has work left (advance() can commit more).
      if (out.length === 0 && ![...this.nodes.values()].some((n) => n.core.hasReady())) return;
      this.deliver(out);
    }
    throw new Error('cluster did not stabilize');
  }

  /** Ticks every node `n` times, stabilizing after each tick. */
  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) node.core.tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign and stabilizes; returns the resulting leader, if any. */
  elect(id: string): string | null {
    this.core(id).campaign();
    this.stabilize();
    return this.leader();
  }

  /** The current leader with the highest term, or null. */
  leader(): string | null {
    let best: RaftCore | null = null;
    for (const n of this.nodes.values()) {
      if (n.core.role === 'leader' && (best === null || n.core.term > best.term)) best = n.core;
    }
    return best?.id ?? null;
  }

  /** Proposes `text` on `id` and stabilizes. */
  propose(id: string, text: string): ReturnType<RaftCore['propose']> {
    const result = this.core(id).propose(new TextEncoder().encode(text));
    this.stabilize();
    return result;
  }

  private deliver(messages: Message[]): void {
    for (const m of messages) {
      if (!this.filters.every((f) => f(m))) continue;
      const target = this.nodes.get(m.to);
      if (target === undefined) continue;
      this.delivered.push(m);
      target.core.step(m);
    }
  }
}

/** Decodes the command entries a node applied, as text. */
export function appliedCommands(node: TestNode): string[] {
  const decoder = new TextDecoder();
  return node.applied.filter((e) => e.type === 'command').map((e) => decoder.decode(e.data));
}
