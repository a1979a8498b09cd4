import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BindingOptions, type Input, RaftBinding } from '../../src/index.js';
import { type BrokerKind, startTestBroker, type TestBroker } from './test-broker.js';
import { waitFor } from './wait.js';

/** Fast timings for binding tests over a local broker. */
export const FAST_BINDING = {
  heartbeatTimeout: 50,
  electionTimeout: 50,
  rpcTimeout: 5000,
  startupTimeout: 10_000,
};

const decoder = new TextDecoder();

/** Open members by id, and which of them leads. */
export class BindingSet {
  readonly members = new Map<string, RaftBinding>();

  member(id: string): RaftBinding {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  /** The member that leads, once one does. */
  async leader(timeoutMs = 5000): Promise<RaftBinding> {
    let found: RaftBinding | undefined;
    await waitFor(
      () => {
        found = [...this.members.values()].find((m) => m.status().role === 'leader');
        return found !== undefined;
      },
      timeoutMs,
      'a leader',
    );
    return found as RaftBinding;
  }
}

/** Members of one group on a private broker, each with its LevelDB directory. */
export class BindingGroup extends BindingSet {
  private readonly dirs = new Map<string, string>();
  private static counter = 0;
  readonly cluster = `g${++BindingGroup.counter}`;

  /** Where each member connects; the group's broker unless said otherwise in {@link open}. */
  private readonly urls = new Map<string, string>();

  private constructor(
    readonly broker: TestBroker,
    /** Options every member opens with (before the `extra` of {@link open}). */
    private readonly defaults: Partial<BindingOptions>,
  ) {
    super();
  }

  static async create(
    kind: BrokerKind = 'aedes',
    defaults: Partial<BindingOptions> = {},
    brokerOptions: Parameters<typeof startTestBroker>[1] = {},
  ): Promise<BindingGroup> {
    return new BindingGroup(await startTestBroker(kind, brokerOptions), defaults);
  }

  /** Creates and opens a member (the first with `bootstrap`), on `broker` when given, else the group's. */
  async open(id: string, extra: Partial<BindingOptions> = {}, broker?: string): Promise<RaftBinding> {
    if (broker !== undefined) this.urls.set(id, broker);
    if (!this.dirs.has(id)) this.dirs.set(id, await mkdtemp(join(tmpdir(), `mqtt-raft-binding-${id}-`)));
    const binding = new RaftBinding({
      id,
      broker: this.urls.get(id) ?? this.broker.url,
      cluster: this.cluster,
      store: join(this.dirs.get(id) as string, 'db'),
      ...FAST_BINDING,
      ...this.defaults,
      ...extra,
    });
    await binding.open();
    this.members.set(id, binding);
    return binding;
  }

  /** Deletes `id`'s store, as an operator wiping its data directory would (the member must be closed). */
  async wipe(id: string): Promise<void> {
    const dir = this.dirs.get(id);
    if (dir === undefined) throw new Error(`no store for ${id}`);
    await rm(join(dir, 'db'), { recursive: true, force: true });
  }

  /** Waits until every open member holds `expected` (as text). */
  async converge(expected: Record<string, string>, timeoutMs = 10_000): Promise<void> {
    const want = JSON.stringify(Object.entries(expected).sort());
    await waitFor(
      async () => {
        for (const m of this.members.values()) {
          if (JSON.stringify(textState(await m.getState())) !== want) return false;
        }
        return true;
      },
      timeoutMs,
      `every member to hold ${want}`,
    );
  }

  async shutdown(): Promise<void> {
    for (const m of this.members.values()) await m.close({ leave: false }).catch(() => undefined);
    await this.broker.close();
    for (const dir of this.dirs.values()) await rm(dir, { recursive: true, force: true });
  }
}

/** A state map as sorted [key, text] pairs. */
export function textState(state: Map<string, Uint8Array>): Array<[string, string]> {
  return [...state].map(([k, v]): [string, string] => [k, decoder.decode(v)]).sort();
}

/** `set key=value` as an Input. */
export function set(key: string, value: string): Input {
  return { op: 'set', key, value: new TextEncoder().encode(value) };
}

/** Collects what an async iterable yields, until it ends or `stop` aborts. */
export function collect<T>(iterable: AsyncIterable<T>): { items: T[]; done: Promise<unknown> } {
  const items: T[] = [];
  const done = (async () => {
    try {
      for await (const item of iterable) items.push(item);
      return null;
    } catch (err) {
      return err;
    }
  })();
  return { items, done };
}
