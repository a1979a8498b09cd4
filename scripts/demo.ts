/**
 * `npm run demo`: an embedded MQTT broker and three members (`mqtt-raft node` child processes with
 * LevelDB stores in a temporary directory). It writes through different members, shows what each
 * member observes, SIGKILLs the leader, keeps writing under the new leader, restarts the killed
 * member and shows it catch up, then shuts everything down and exits 0.
 *
 * Everything it waits for has a deadline; nothing sleeps blindly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningBroker, startBroker } from '../broker/index.js';
import { controlRequest, controlWatch } from '../src/cli/control-client.js';
import type { ControlRequest, ControlResponse, WireStatus } from '../src/cli/control-protocol.js';
import { showChange } from '../src/cli/format.js';

const REPO = fileURLToPath(new URL('../', import.meta.url));
/** How long any single step may take before the demo gives up. */
const STEP_MS = 15_000;
/** Faster than the defaults (1000 ms), so that the failover is quick to watch. */
const RAFT_TIMING = ['--heartbeat-timeout', '250', '--election-timeout', '500'];
const started = Date.now();

function section(title: string): void {
  console.log(`\n== ${title} ==`);
}

/** Polls `condition` every 10 ms until it holds; throws naming `what` after `ms`. */
async function until<T>(
  condition: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = STEP_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** One `mqtt-raft node` child process, its output printed with a `[id]` prefix. */
class Member {
  readonly dataDir: string;
  readonly controlPath: string;
  child: ChildProcess | null = null;
  ready = false;
  /** Changes this member's watch has printed, as `set k = v` / `del k` lines. */
  observed: string[] = [];
  private watch: AbortController | null = null;

  constructor(
    readonly id: string,
    private readonly root: string,
  ) {
    this.dataDir = join(root, id);
    this.controlPath = join(this.dataDir, 'control.sock');
  }

  print(text: string): void {
    console.log(`  [${this.id}] ${text.split(this.root).join('<tmp>')}`);
  }

  async start(brokerUrl: string, bootstrap: boolean): Promise<void> {
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'node', '--id', this.id, '--broker', brokerUrl];
    args.push('--data', this.dataDir, ...RAFT_TIMING, ...(bootstrap ? ['--bootstrap'] : []));
    const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.ready = false;
    const prefix = `mqtt-raft node ${this.id}: `;
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const text = line.startsWith(prefix) ? line.slice(prefix.length) : line;
        if (text.startsWith('ready;')) this.ready = true;
        this.print(text);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line !== '') this.print(`! ${line}`);
    });
    await until(() => {
      if (child.exitCode !== null) throw new Error(`member ${this.id} exited with code ${child.exitCode}`);
      return this.ready || undefined;
    }, `member ${this.id} to be ready`);
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  request(request: ControlRequest): Promise<Extract<ControlResponse, { ok: true }>> {
    return controlRequest(this.controlPath, request, STEP_MS).then((response) => {
      if (!response.ok) throw new Error(`${this.id}: ${response.error.code}: ${response.error.message}`);
      return response;
    });
  }

  async status(): Promise<WireStatus> {
    const { status } = await this.request({ cmd: 'status' });
    if (status === undefined) throw new Error(`${this.id} sent no status`);
    return status;
  }

  /** Prints every change this member applies, starting with a replay of its current state. */
  async startWatch(): Promise<void> {
    this.observed = [];
    const controller = new AbortController();
    this.watch = controller;
    let watching = false;
    void controlWatch(
      this.controlPath,
      { cmd: 'watch' },
      (response) => {
        if (response.watching !== undefined) watching = true;
        if (response.change === undefined) return;
        const line = showChange(response.change);
        this.observed.push(line);
        this.print(`observed: ${line}`);
      },
      controller.signal,
    ).catch((err: unknown) => this.print(`! watch failed: ${(err as Error).message}`));
    await until(() => watching || undefined, `the watch on ${this.id} to start`);
  }

  stopWatch(): void {
    this.watch?.abort();
    this.watch = null;
  }

  /** Sends `signal` and waits for the exit; resolves with the exit code (null after a kill). */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    const child = this.child;
    if (child === null || !this.running) return child?.exitCode ?? null;
    this.stopWatch();
    child.kill(signal);
    await until(() => !this.running || undefined, `member ${this.id} to exit after ${signal}`);
    return child.exitCode;
  }
}

async function write(member: Member, key: string, value: string | null, everyone: Member[]): Promise<void> {
  const request: ControlRequest = value === null ? { cmd: 'del', key } : { cmd: 'set', key, value };
  const text = value === null ? `del ${key}` : `set ${key} = ${value}`;
  const { index } = await member.request(request);
  console.log(`> ${text}   (proposed through ${member.id}; committed at index ${index})`);
  await until(
    () => everyone.every((m) => m.observed.includes(text)) || undefined,
    `every running member to observe '${text}'`,
  );
}

async function leaderOf(members: Member[], not?: string): Promise<{ leader: string; term: number }> {
  return until(async () => {
    for (const member of members) {
      const status = await member.status().catch(() => undefined);
      if (status?.leader != null && status.leader !== not)
        return { leader: status.leader, term: status.term };
    }
    return undefined;
  }, 'a leader');
}

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'mqtt-raft-demo-'));
  const members = ['a', 'b', 'c'].map((id) => new Member(id, root));
  let broker: RunningBroker | null = null;
  try {
    section('1. An MQTT broker and three members (child processes, LevelDB stores)');
    broker = await startBroker({ host: '127.0.0.1', port: 0 });
    console.log(`broker listening on ${broker.url}; data in ${root}`);
    const url = broker.url;
    const [a, b, c] = members as [Member, Member, Member];
    await a.start(url, true);
    await b.start(url, false);
    await c.start(url, false);

    section('2. Every member watches its state');
    for (const member of members) await member.startWatch();
    console.log('(each member prints "observed: …" for every change it applies)');

    section('3. Writes through different members');
    await write(a, 'color', 'blue', members);
    await write(b, 'size', 'large', members);
    await write(c, 'shape', 'circle', members);
    await write(a, 'size', null, members);

    section('4. Kill the leader with SIGKILL');
    const old = await leaderOf(members);
    const victim = members.find((m) => m.id === old.leader) as Member;
    const survivors = members.filter((m) => m !== victim);
    console.log(`> kill -9 ${victim.id} (the leader, term ${old.term})`);
    await victim.stop('SIGKILL');
    const next = await leaderOf(survivors, victim.id);
    console.log(`new leader: ${next.leader} (term ${next.term})`);

    section('5. Writes continue with two of three members');
    const [s1, s2] = survivors as [Member, Member];
    await write(s1, 'color', 'green', survivors);
    await write(s2, 'weather', 'sunny', survivors);

    section(`6. Restart ${victim.id} from its data directory: it catches up`);
    await victim.start(url, false);
    console.log(
      `(${victim.id}'s watch replays the state ${victim.id} holds now, then every change it catches up on)`,
    );
    await victim.startWatch();
    const expected = JSON.stringify(
      (await s1.request({ cmd: 'state', consistency: 'linearizable' })).entries,
    );
    await until(
      async () => JSON.stringify((await victim.request({ cmd: 'state' })).entries) === expected || undefined,
      `${victim.id} to catch up`,
    );
    await write(victim, 'mood', 'happy', members);
    for (const member of members) {
      const { entries = [] } = await member.request({ cmd: 'state' });
      console.log(`state on ${member.id}: ${entries.map((e) => `${e.key}=${e.value}`).join(', ')}`);
    }
    const states = await Promise.all(members.map((m) => m.request({ cmd: 'state' })));
    if (new Set(states.map((s) => JSON.stringify(s.entries))).size !== 1)
      throw new Error('the states differ');
    console.log('all three members hold the same state');

    section('7. Shut down: members leave the group one by one');
    const last = await leaderOf(members);
    const order = [
      ...members.filter((m) => m.id !== last.leader),
      ...members.filter((m) => m.id === last.leader),
    ];
    for (const member of order) {
      console.log(`> SIGTERM ${member.id}`);
      const code = await member.stop('SIGTERM');
      if (code !== 0) throw new Error(`member ${member.id} exited with code ${code}`);
    }
  } finally {
    for (const member of members) {
      member.stopWatch();
      if (member.running) member.child?.kill('SIGKILL');
    }
    await broker?.close();
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  }
  console.log(`\ndemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    console.error(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
