/** Shared helpers of the benchmark suite: percentiles, sleeping, polling, child process bookkeeping. */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One result line: `{metric, value, unit, ...qualifiers}`. */
export interface Result {
  metric: string;
  value: number;
  unit: string;
  [qualifier: string]: string | number | boolean;
}

/** Microsecond-resolution wall clock shared by all processes on the machine (ms since epoch, fractional). */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The q-quantile (0..1) of `values` by nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Polls `condition` every `everyMs` until it returns a value other than undefined; throws after `ms`. */
export async function until<T>(
  condition: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 20_000,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Every child process the bench started, so that all of them can be killed at the end or on errors. */
const children = new Set<ChildProcess>();

/** Forks `bench/<script>` under tsx with an IPC channel; the child is tracked for {@link killAll}. */
export function forkBench(script: string, args: string[] = []): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url));
  // BENCH_CPU_PROF=<dir>: every child writes a V8 CPU profile there when it exits (see stopGracefully).
  const profileDir = process.env.BENCH_CPU_PROF;
  const profiling =
    profileDir === undefined || profileDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = fork(path, args, {
    execArgv: ['--import', 'tsx', ...profiling],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** SIGKILLs `child` and waits until it has exited. */
export async function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

/**
 * Sends SIGTERM (children close and exit 0, which is when a CPU profile gets written) and waits up
 * to `ms` for the exit; SIGKILLs a child that did not exit by then.
 */
export async function stopGracefully(child: ChildProcess, ms = 5000): Promise<void> {
  if (!alive(child)) return;
  const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(true)));
  child.kill('SIGTERM');
  const timer = sleep(ms).then(() => false);
  if (!(await Promise.race([exited, timer]))) await kill(child);
}

/** Linux reports a process's CPU time in clock ticks of 1/100 s (USER_HZ) on every common architecture. */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, all threads) used so far by the processes `pids`, in ms, from
 * `/proc/<pid>/stat`; null where there is no such file (not Linux, or a process gone).
 */
export function cpuMsOf(pids: readonly number[]): number | null {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is the 14th
    // field of the line, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Kills every child the bench started that is still running. */
export async function killAll(): Promise<void> {
  await Promise.all([...children].map((c) => kill(c)));
}

/** Request/response over a forked child's IPC channel: messages carry an `rid` echoed in the reply. */
export class IpcPeer {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: unknown) => {
      const m = message as { rid?: number; error?: string };
      if (typeof m.rid !== 'number') return;
      const w = this.waiting.get(m.rid);
      if (w === undefined) return;
      this.waiting.delete(m.rid);
      if (m.error !== undefined) w.reject(new Error(m.error));
      else w.resolve(m);
    });
    child.once('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`child exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  request<T>(message: Record<string, unknown>, timeoutMs = 120_000): Promise<T> {
    const rid = ++this.next;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        reject(new Error(`no reply to ${String(message.type)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(rid, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...message, rid });
    });
  }
}

/** In a child: exit when the parent goes away, so no process outlives the bench. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}
