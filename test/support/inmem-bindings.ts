import { type BindingOptions, MemoryStore, RaftBinding, type RaftStorage } from '../../src/index.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { BindingSet } from './binding-group.js';

/**
 * Raft timing of these members: fast, yet with a leader lease (half the heartbeat timeout) that
 * rides out the event-loop stalls of a loaded test machine, so the leader a test acts on stays it.
 */
export const INMEM_TIMING = { heartbeatTimeout: 200, electionTimeout: 400, rpcTimeout: 5000 };

/** Bindings of one group on the in-memory network and memory stores (no broker, no disk). */
export class InmemBindings extends BindingSet {
  readonly network: InmemNetwork;

  constructor(
    seed: number,
    /** Options every member opens with. */
    private readonly defaults: Partial<BindingOptions> = {},
  ) {
    super();
    this.network = new InmemNetwork({ seed });
  }

  /**
   * Opens member `id` (the first one bootstraps the group) on `storage` (default: a new memory
   * store), with `options` over the group's defaults.
   */
  async open(
    id: string,
    storage: RaftStorage = new MemoryStore(),
    options: Partial<BindingOptions> = {},
  ): Promise<RaftBinding> {
    const binding = new RaftBinding(
      // The broker URL is never used: the transport is injected.
      {
        id,
        broker: 'mqtt://127.0.0.1:1',
        bootstrap: this.members.size === 0,
        ...INMEM_TIMING,
        ...this.defaults,
        ...options,
      },
      { openStorage: async () => storage, createTransport: () => this.network.transport(id) },
    );
    await binding.open();
    this.members.set(id, binding);
    return binding;
  }

  /** Opens `ids` in order: the first bootstraps, the others join. */
  async start(ids: readonly string[]): Promise<RaftBinding[]> {
    const opened: RaftBinding[] = [];
    for (const id of ids) opened.push(await this.open(id));
    return opened;
  }

  /** Stops `id` without leaving the group, as a crash would: the others no longer hear from it. */
  async kill(id: string): Promise<void> {
    await this.member(id).close({ leave: false });
    this.members.delete(id);
  }

  async closeAll(): Promise<void> {
    for (const m of this.members.values()) await m.close({ leave: false }).catch(() => undefined);
    this.members.clear();
  }
}

/** The ids `binding.members()` lists, in order. */
export function memberIds(binding: RaftBinding): string[] {
  return binding.members().map((m) => m.id);
}

/** `store`, but `close` leaves it open, so a member can be opened on it again (a restart). */
export function reopenable(store: RaftStorage): RaftStorage {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'close') return async () => undefined;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Each member's id and role, as `binding` lists them. */
export function roles(binding: RaftBinding): string[][] {
  return binding.members().map((m) => [m.id, m.role]);
}
