import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Raft, type RaftConfigInput, type Transport } from '../../src/index.js';
import { MemoryStore, RaftStore } from '../../src/storage/index.js';
import type { StorageBatch } from '../../src/storage/types.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { CrashableStorage } from './crashable-storage.js';
import { KvFsm } from './kv-fsm.js';
import { waitFor } from './wait.js';

/** Which store the cluster's nodes use. */
export type StoreKind = 'memory' | 'level';

/** One member of a {@link NodeCluster}. */
export interface ClusterMember {
  raft: Raft | null;
  fsm: KvFsm;
  /** The member's store, as its running node sees it; {@link NodeCluster.kill} crashes it. */
  storage: CrashableStorage;
  /** The transport of the running node. */
  transport: Transport | null;
}

/** Fast timings for tests: one tick is 5 ms, an election timeout 50–100 ms. */
export const FAST: Omit<RaftConfigInput, 'localId'> = {
  heartbeatTimeout: 50,
  electionTimeout: 50,
  leaderLeaseTimeout: 50,
};

const encoder = new TextEncoder();

/**
 * Raft nodes over an {@link InmemNetwork} with real timers, for integration tests: start, kill,
 * restart (from what storage kept), wipe, and wait for conditions with deadlines.
 */
export class NodeCluster {
  readonly network = new InmemNetwork({ seed: 7 });
  readonly members = new Map<string, ClusterMember>();
  /** Each member's LevelDB directory, kept across wipes so restarts find it. */
  private readonly dirs = new Map<string, string>();
  /** Shutdowns of crashed nodes, left to run out on their own; awaited by {@link shutdown}. */
  private readonly crashed: Promise<void>[] = [];

  /** Makes a fresh transport for a (re)starting member. */
  private readonly transportFor: (id: string) => Transport;

  private constructor(
    private readonly store: StoreKind,
    private readonly config: Omit<RaftConfigInput, 'localId'>,
    transport: ((id: string) => Transport) | undefined,
  ) {
    this.transportFor = transport ?? ((id) => this.network.transport(id));
  }

  /**
   * Bootstraps `ids` as the voters of a new group and starts them all, over the in-memory network
   * unless `transport` makes another kind (a fresh one per start).
   */
  static async start(
    ids: readonly string[],
    store: StoreKind = 'memory',
    config = FAST,
    transport?: (id: string) => Transport,
  ): Promise<NodeCluster> {
    const cluster = new NodeCluster(store, config, transport);
    const configuration = { servers: ids.map((id) => ({ id, suffrage: 'voter' as const })) };
    for (const id of ids) {
      const storage = await cluster.openStorage(id);
      await Raft.bootstrapCluster(storage, configuration);
      cluster.members.set(id, { raft: null, fsm: new KvFsm(), storage, transport: null });
    }
    for (const id of ids) await cluster.startNode(id);
    return cluster;
  }

  /** Adds a server with empty storage (not bootstrapped) and starts it; it waits to be added. */
  async addEmpty(id: string): Promise<ClusterMember> {
    this.members.set(id, {
      raft: null,
      fsm: new KvFsm(),
      storage: await this.openStorage(id),
      transport: null,
    });
    await this.startNode(id);
    return this.member(id);
  }

  member(id: string): ClusterMember {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  raft(id: string): Raft {
    const raft = this.member(id).raft;
    if (raft === null) throw new Error(`${id} is not running`);
    return raft;
  }

  /** Starts (or restarts) `id` from its storage with a fresh FSM, as a process restart would. */
  async startNode(id: string): Promise<Raft> {
    const m = this.member(id);
    m.fsm = new KvFsm();
    m.transport = this.transportFor(id);
    m.raft = await Raft.start({
      config: { ...this.config, localId: id },
      fsm: m.fsm,
      storage: m.storage,
      transport: m.transport,
    });
    return m.raft;
  }

  /**
   * Crashes `id`, as a killed process: from this moment its store takes no write and answers
   * nothing (a write issued before stays as the store made it, one not yet issued is lost), its
   * transport is closed, and its node is stopped without waiting for anything in progress. Then
   * the store is reopened from what it holds (a LevelDB store from disk), ready for a restart.
   */
  async kill(id: string): Promise<void> {
    const m = this.member(id);
    m.storage.crash();
    const { raft, transport } = m;
    m.raft = null;
    m.transport = null;
    await transport?.close();
    // The node's shutdown fails fast (every storage call now rejects); nobody waits for it here.
    if (raft !== null) this.crashed.push(raft.shutdown().catch(() => undefined));
    await m.storage.settled();
    m.storage = await this.reopen(id, m.storage);
  }

  /**
   * Stops `id` gracefully: its node shuts down after its writes in progress, then its store is
   * reopened from what it holds (a LevelDB store from disk), ready for a restart.
   */
  async stop(id: string): Promise<void> {
    const m = this.member(id);
    await m.raft?.shutdown();
    m.raft = null;
    m.transport = null;
    m.storage = await this.reopen(id, m.storage);
  }

  /**
   * Crashes `id` (see {@link kill}) as soon as it issues a batch that `when` picks, before that
   * batch reaches its store; resolves once the crashed node is down.
   */
  crashOnWrite(id: string, when: (batch: StorageBatch) => boolean): Promise<void> {
    const storage = this.member(id).storage;
    return new Promise<void>((resolve, reject) => {
      storage.beforeWrite = (batch) => {
        if (storage.hasCrashed || !when(batch)) return;
        storage.crash();
        storage.beforeWrite = null;
        this.kill(id).then(resolve, reject);
      };
    });
  }

  /** Kills `id` and deletes everything it stored. */
  async wipe(id: string): Promise<void> {
    await this.kill(id);
    const m = this.member(id);
    await m.storage.close(true);
    m.storage = await this.openStorage(id);
  }

  /** Waits until exactly one running node leads and returns its id. */
  async waitForLeader(timeoutMs = 5000): Promise<string> {
    let leader: string | null = null;
    await waitFor(
      () => {
        const leaders = [...this.members].filter(([, m]) => m.raft?.state() === 'leader').map(([id]) => id);
        leader = leaders.length === 1 ? (leaders[0] as string) : null;
        return leader !== null;
      },
      timeoutMs,
      'a single leader',
    );
    return leader as unknown as string;
  }

  /** Applies `key=value` on the current leader, retrying on leadership changes until the deadline. */
  async apply(text: string, timeoutMs = 5000): Promise<{ index: number; response: unknown }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.waitForLeader(Math.max(1, deadline - Date.now()));
      try {
        return await this.raft(leader).apply(encoder.encode(text), {
          timeoutMs: Math.max(1, deadline - Date.now()),
        });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (
          Date.now() >= deadline ||
          (code !== 'NOT_LEADER' && code !== 'LEADERSHIP_LOST' && code !== 'TIMEOUT')
        )
          throw err;
      }
    }
  }

  /** Waits until every running member has applied `index` and holds the same state. */
  async waitForConvergence(index: number, timeoutMs = 5000): Promise<void> {
    await waitFor(
      () => {
        const running = [...this.members.values()].filter((m) => m.raft !== null);
        if (!running.every((m) => (m.raft?.stats().appliedIndex ?? 0) >= index)) return false;
        const states = running.map((m) => JSON.stringify([...m.fsm.state].sort()));
        return states.every((s) => s === states[0]);
      },
      timeoutMs,
      `every running member applied ${index} with equal state`,
    );
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.crashed);
    for (const m of this.members.values()) {
      await m.raft?.shutdown();
      await m.storage.close();
    }
    for (const dir of this.dirs.values()) await rm(dir, { recursive: true, force: true });
  }

  private dirFor(id: string): string {
    const dir = this.dirs.get(id);
    if (dir === undefined) throw new Error(`no directory for ${id}`);
    return join(dir, 'db');
  }

  private async openStorage(id: string): Promise<CrashableStorage> {
    if (this.store === 'memory') return new CrashableStorage(new MemoryStore());
    if (!this.dirs.has(id)) this.dirs.set(id, await mkdtemp(join(tmpdir(), `mqtt-raft-${id}-`)));
    return new CrashableStorage(await RaftStore.open(this.dirFor(id)));
  }

  /** The same store, for a restart: a memory store as it is, a LevelDB store reopened from disk. */
  private async reopen(id: string, storage: CrashableStorage): Promise<CrashableStorage> {
    if (this.store === 'memory') return new CrashableStorage(storage.inner);
    await storage.inner.close();
    return new CrashableStorage(await RaftStore.open(this.dirFor(id)));
  }
}
