/**
 * The runner's handle on one member: its process (test/jepsen/member.ts under tsx), store, stream
 * files and logs, and the process faults (SIGKILL, SIGSTOP/SIGCONT, close, wipe) applied to it.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, IpcPeer, kill } from '../../bench/util.js';
import type { MemberConfig } from './member.js';
import type { StreamRecord } from './streams.js';

const MEMBER_SCRIPT = fileURLToPath(new URL('./member.ts', import.meta.url));
/** Opening includes joining and catching up on a loaded machine. */
const START_TIMEOUT_MS = 40_000;

export type MemberReply = Record<string, unknown> & { outcome?: 'ok' | 'fail' | 'info'; error?: string };

/** A member process and everything the runner knows about it. */
export class MemberHandle {
  private child: ChildProcess | null = null;
  private peer: IpcPeer | null = null;
  private incarnation = 0;
  /** Stopped with SIGSTOP: the process exists but answers nothing. */
  paused = false;
  /** Workload clients hold back while false (the member is down, paused or leaving). */
  serving = false;
  /** Requests sent and not answered yet. */
  inFlight = 0;

  constructor(
    readonly id: string,
    readonly dir: string,
    private readonly cluster: string,
    /** The member's role and the group's voter budget it opens with (MemberConfig). */
    private readonly membership: Pick<MemberConfig, 'role' | 'voters'> = { role: 'voter' },
  ) {}

  get store(): string {
    return join(this.dir, 'db');
  }

  get running(): boolean {
    return this.child !== null && alive(this.child);
  }

  /** Starts a new incarnation and resolves once its binding is open. */
  async start(broker: string, bootstrap: boolean): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const incarnation = ++this.incarnation;
    const config: MemberConfig = {
      id: this.id,
      broker,
      cluster: this.cluster,
      store: this.store,
      bootstrap,
      ...this.membership,
      incarnation,
      streamFile: join(this.dir, `stream-${incarnation}.jsonl`),
    };
    const log = openSync(join(this.dir, `log-${incarnation}.txt`), 'a');
    const child = fork(MEMBER_SCRIPT, [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', log, log, 'ipc'],
    });
    closeSync(log);
    this.child = child;
    this.peer = new IpcPeer(child);
    this.paused = false;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.id} not open within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${this.id} exited while opening (${code ?? signal})`));
      });
      child.on('message', (m: { type?: string; error?: string }) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (m.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${this.id} failed to open: ${m.error}`));
        }
      });
    }).catch(async (err: unknown) => {
      if (this.child !== null) await kill(this.child);
      throw err;
    });
    this.serving = true;
  }

  /** Sends a request; rejects when the process is gone or does not answer within `timeoutMs`. */
  async request(message: Record<string, unknown>, timeoutMs: number): Promise<MemberReply> {
    if (this.peer === null || !this.running) throw new Error(`${this.id} is not running`);
    this.inFlight++;
    try {
      return await this.peer.request<MemberReply>(message, timeoutMs);
    } finally {
      this.inFlight--;
    }
  }

  async kill(): Promise<void> {
    this.serving = false;
    if (this.paused) this.resume();
    if (this.child !== null) await kill(this.child);
  }

  pause(): void {
    this.serving = false;
    this.paused = true;
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
    this.paused = false;
    if (this.running) this.serving = true;
  }

  /** Closes the binding (leaving the group when `leave`), waits for the exit; SIGKILL if it hangs. */
  async close(leave: boolean, timeoutMs = 15_000): Promise<void> {
    this.serving = false;
    if (this.paused) this.resume();
    this.serving = false;
    const child = this.child;
    if (child === null || !alive(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await this.request({ type: 'close', leave }, timeoutMs).catch(() => undefined);
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 5000));
    if (!(await Promise.race([exited.then(() => true), timer]))) await kill(child);
  }

  /** Deletes the store (the member must be down): it comes back as a fresh member with the same id. */
  async wipe(): Promise<void> {
    await rm(this.store, { recursive: true, force: true });
  }

  /** Every incarnation's recorded stream, read from its file. */
  streams(): StreamRecord[] {
    const records: StreamRecord[] = [];
    for (const name of readdirSync(this.dir).filter((n) => n.startsWith('stream-'))) {
      const lines = readFileSync(join(this.dir, name), 'utf8')
        .split('\n')
        .filter((l) => l.length > 0);
      const header = JSON.parse(lines[0] ?? '{}') as { incarnation?: number; replay?: number };
      const changes: Array<[string, string | null]> = [];
      for (const line of lines.slice(1)) {
        try {
          changes.push(JSON.parse(line) as [string, string | null]);
        } catch {
          break; // A line cut by SIGKILL ends the record.
        }
      }
      const replayCount = header.replay ?? 0;
      records.push({
        member: this.id,
        incarnation: header.incarnation ?? 0,
        replay: changes.slice(0, replayCount) as Array<[string, string]>,
        live: changes.slice(replayCount),
      });
    }
    return records.sort((a, b) => a.incarnation - b.incarnation);
  }
}
