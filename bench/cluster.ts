/** A group of member processes (bench/member.ts) on a broker process, with LevelDB stores in a temp dir. */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingStatus } from '../src/binding/binding-types.js';
import { type BrokerProcess, startBrokerProcess } from './broker.js';
import { alive, cpuMsOf, forkBench, IpcPeer, kill, stopGracefully, until } from './util.js';

export interface MemberStatus {
  status: BindingStatus;
  entriesPersisted: number;
  batchesPersisted: number;
}

export class MemberProcess {
  child: ChildProcess | null = null;
  peer: IpcPeer | null = null;
  /** How long open() took inside the child (restart, or join including catch-up). */
  openMs = 0;

  constructor(
    readonly id: string,
    readonly dataDir: string,
  ) {}

  get running(): boolean {
    return this.child !== null && alive(this.child);
  }

  /** `groupKey`: seal every envelope with it (hex); '' for none. */
  async start(brokerUrl: string, bootstrap: boolean, groupKey = ''): Promise<void> {
    const args = [this.id, brokerUrl, this.dataDir, bootstrap ? '1' : '0', groupKey];
    const child = forkBench('./member.ts', args);
    this.child = child;
    this.peer = new IpcPeer(child);
    this.openMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`member ${this.id} not ready within 30 s`)), 30_000);
      child.once('exit', (code) => reject(new Error(`member ${this.id} exited with code ${code}`)));
      child.on('message', (m: unknown) => {
        const msg = m as { type?: string; openMs?: number; error?: string };
        if (msg.type === 'ready') {
          clearTimeout(timer);
          resolve(msg.openMs ?? 0);
        } else if (msg.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`member ${this.id} failed to open: ${msg.error}`));
        }
      });
    });
  }

  request<T>(message: Record<string, unknown>, timeoutMs?: number): Promise<T> {
    if (this.peer === null || !this.running)
      return Promise.reject(new Error(`member ${this.id} is not running`));
    return this.peer.request<T>(message, timeoutMs);
  }

  status(): Promise<MemberStatus> {
    return this.request<MemberStatus>({ type: 'status' }, 5000);
  }

  async kill(): Promise<void> {
    if (this.child !== null) await kill(this.child);
  }

  /** Closes the member (SIGTERM: close without leaving, then exit), SIGKILL if it hangs. */
  async stop(): Promise<void> {
    if (this.child !== null) await stopGracefully(this.child);
  }
}

export class Cluster {
  readonly members: MemberProcess[] = [];

  private constructor(
    readonly broker: BrokerProcess,
    readonly root: string,
    /** The group key every member seals with (hex), or '' for none. */
    readonly groupKey: string,
  ) {}

  /**
   * Starts a broker process and `size` members: the first bootstraps, the others join one by one.
   * With `sealed`, the members share a random group key and seal every envelope.
   */
  static async start(size: number, options: { sealed?: boolean } = {}): Promise<Cluster> {
    const root = await mkdtemp(join(tmpdir(), 'mqtt-raft-bench-'));
    let broker: BrokerProcess | null = null;
    try {
      broker = await startBrokerProcess();
      const groupKey = options.sealed === true ? randomBytes(32).toString('hex') : '';
      const cluster = new Cluster(broker, root, groupKey);
      for (let i = 0; i < size; i++) await cluster.add(i === 0);
      await cluster.leader();
      return cluster;
    } catch (err) {
      await broker?.stop();
      await rm(root, { recursive: true, force: true });
      throw err;
    }
  }

  /** Starts one more member (a fresh one joins the group); resolves once its open() resolved. */
  async add(bootstrap = false): Promise<MemberProcess> {
    const id = String.fromCharCode(97 + this.members.length);
    const member = new MemberProcess(id, join(this.root, id));
    this.members.push(member);
    await member.start(this.broker.url, bootstrap, this.groupKey);
    return member;
  }

  /** The running member that is leader and that every running member agrees on. */
  leader(timeoutMs = 20_000): Promise<MemberProcess> {
    return until(
      async () => {
        const running = this.members.filter((m) => m.running);
        const statuses = await Promise.all(running.map((m) => m.status().catch(() => null)));
        const leaders = statuses.filter((s) => s?.status.role === 'leader');
        if (leaders.length !== 1) return undefined;
        const id = leaders[0]?.status.id;
        if (!statuses.every((s) => s?.status.leader === id)) return undefined;
        return running.find((m) => m.id === id);
      },
      'a leader every member agrees on',
      timeoutMs,
      20,
    );
  }

  /** CPU time used so far by the broker and the running members together (ms), or null where unknown. */
  cpuMs(): number | null {
    const pids = [this.broker.child, ...this.members.filter((m) => m.running).map((m) => m.child)].map(
      (c) => c?.pid,
    );
    if (pids.some((pid) => pid === undefined)) return null;
    return cpuMsOf(pids as number[]);
  }

  async follower(): Promise<MemberProcess> {
    const leader = await this.leader();
    const follower = this.members.find((m) => m.running && m !== leader);
    if (follower === undefined) throw new Error('no follower');
    return follower;
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
    await this.broker.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}
