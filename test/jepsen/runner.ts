/**
 * A fault run of the real stack: member processes on LevelDB stores over a real broker, a
 * workload on every member, one fault per phase from the seed's schedule, then healing, final
 * reads on every member, convergence, and the checker's verdict. Every wait is bounded.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrokerControl, type BrokerKind, startBrokerControl } from './brokers.js';
import { check, summarize, type Verdict } from './checker.js';
import { HistoryRecorder } from './history.js';
import { MemberHandle } from './members.js';
import { type FaultKind, inject, isNetworkFault, type PlannedPhase, plan } from './nemesis.js';
import { Workload } from './workload.js';

export interface RunOptions {
  /** Members that join as voters (all of them without a budget). */
  nodes: number;
  /** Members that join as observers, after the others. Default 0. */
  observers?: number;
  /** The group's voter budget: the voting members beyond it join as non-voters. Default none. */
  voters?: number;
  seconds: number;
  seed: number;
  broker: BrokerKind;
  faults: readonly FaultKind[];
  keys?: number;
  clientsPerMember?: number;
  /** Keep the run's directory (history, streams, logs) even when it passes. */
  keep?: boolean;
  /** Receives every report line as it is produced; default console.log. */
  log?: (line: string) => void;
}

export interface RunResult {
  verdict: Verdict | null;
  /** Problems of the run itself (a fault that could not be healed, a member that serves no read). */
  runProblems: string[];
  valid: boolean;
  dir: string;
  kept: boolean;
}

const HEAL_TIMEOUT_MS = 60_000;
const INJECT_TIMEOUT_MS = 30_000;
const FINAL_READ_BOUND_MS = 30_000;
const CONVERGE_BOUND_MS = 30_000;
/** The availability bucket of the final reads (phase 0 is the time before the first fault). */
const FINAL_PHASE = 1_000_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Rejects after `ms` with a message naming `what`. */
export function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runFaultTest(options: RunOptions): Promise<RunResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = await mkdtemp(join(tmpdir(), `mqtt-raft-jepsen-${options.seed}-`));
  const faults = usableFaults(options, log);
  const schedule = plan(options.seed, options.seconds, faults);
  const observers = options.observers ?? 0;
  const budget = options.voters === undefined ? '' : `, a budget of ${options.voters} voters`;
  log(
    `jepsen: ${options.nodes} members and ${observers} observers${budget} on ${options.broker}, ${options.seconds} s, seed ${options.seed}, faults ${faults.join(',')}`,
  );
  const broker = await startBrokerControl(options.broker, `j${options.seed}`, options.seed);
  const voters = options.voters === undefined ? {} : { voters: options.voters };
  const members = Array.from({ length: options.nodes + observers }, (_, i) => {
    const role = i < options.nodes ? ('voter' as const) : ('observer' as const);
    return new MemberHandle(`n${i + 1}`, join(dir, `n${i + 1}`), `j${options.seed}`, { role, ...voters });
  });
  const recorder = new HistoryRecorder();
  const keys = Array.from({ length: options.keys ?? 4 }, (_, i) => `k${i}`);
  const workload = new Workload(members, recorder, keys, options.clientsPerMember ?? 3, options.seed);
  const runProblems: string[] = [];
  let verdict: Verdict | null = null;
  try {
    for (const [i, m] of members.entries()) await m.start(broker.url, i === 0);
    log(`started ${members.map((m) => m.id).join(', ')}; schedule of ${schedule.length} phases`);
    workload.start();
    // A quiet start, so the availability before any fault is a baseline for the phases.
    await sleep(2000);
    for (const phase of schedule) await runPhase(phase, { members, broker, workload, log, runProblems });
    await healAll(members, broker, runProblems, log);
    await workload.stop();
    await finalReads(members, workload, runProblems, log);
    const finalStates = await converge(members, runProblems);
    await Promise.all(members.map((m) => m.close(false).catch(() => undefined)));
    const streams = members.flatMap((m) => m.streams());
    verdict = check({ history: recorder.all(), streams, finalStates });
    printAvailability(schedule, workload, members, log);
    for (const line of [...runProblems, ...verdict.problems].slice(0, 60)) log(`  ${line}`);
    for (const line of summarize(verdict, recorder.all())) log(line);
  } catch (err) {
    runProblems.push(`run aborted: ${err instanceof Error ? err.message : String(err)}`);
    log(`run aborted: ${String(err)}`);
  } finally {
    await workload.stop();
    await Promise.all(members.map((m) => m.kill().catch(() => undefined)));
    await broker.close().catch(() => undefined);
  }
  const valid = runProblems.length === 0 && verdict?.valid === true;
  await writeFile(join(dir, 'history.json'), JSON.stringify(recorder.all()));
  if (valid && options.keep !== true) await rm(dir, { recursive: true, force: true });
  else
    log(
      `${valid ? 'kept' : 'FAIL'}: history, streams and member logs in ${dir} (replay: --seed ${options.seed})`,
    );
  log(
    `jepsen: ${valid ? 'PASS' : 'FAIL'}${runProblems.length > 0 ? ` (${runProblems.length} run problems)` : ''}`,
  );
  return { verdict, runProblems, valid, dir, kept: !valid || options.keep === true };
}

/** The requested faults this broker supports; network faults need the aedes fault broker. */
function usableFaults(options: RunOptions, log: (line: string) => void): FaultKind[] {
  if (options.broker === 'aedes') return [...options.faults];
  const dropped = options.faults.filter(isNetworkFault);
  if (dropped.length > 0)
    log(`mosquitto: network faults unavailable without the fault broker, skipped: ${dropped.join(',')}`);
  return options.faults.filter((f) => !isNetworkFault(f));
}

interface PhaseContext {
  members: MemberHandle[];
  broker: BrokerControl;
  workload: Workload;
  log: (line: string) => void;
  runProblems: string[];
}

async function runPhase(phase: PlannedPhase, ctx: PhaseContext): Promise<void> {
  const nemesis = { members: ctx.members, broker: ctx.broker, leader: () => leaderOf(ctx.members) };
  ctx.workload.phase = phase.index;
  const started = performance.now();
  let injected: Awaited<ReturnType<typeof inject>> | null = null;
  try {
    injected = await bounded(inject(phase, nemesis), INJECT_TIMEOUT_MS, `inject ${phase.fault}`);
    ctx.log(`phase ${phase.index}: ${injected.description} for ${phase.faultMs} ms`);
  } catch (err) {
    ctx.runProblems.push(`phase ${phase.index}: could not inject ${phase.fault}: ${String(err)}`);
    ctx.log(`phase ${phase.index}: could not inject ${phase.fault}: ${String(err)}`);
  }
  await sleep(Math.max(0, phase.faultMs - (performance.now() - started)));
  ctx.workload.phase = -phase.index;
  if (injected !== null) {
    try {
      await bounded(injected.heal(), HEAL_TIMEOUT_MS, `heal ${phase.fault}`);
    } catch (err) {
      ctx.runProblems.push(`phase ${phase.index}: heal of "${injected.description}" failed: ${String(err)}`);
      ctx.log(`phase ${phase.index}: heal failed: ${String(err)}`);
    }
  }
  await sleep(phase.healMs);
}

/** The member that every serving member names as leader, if they agree. */
async function leaderOf(members: readonly MemberHandle[]): Promise<MemberHandle | undefined> {
  const serving = members.filter((m) => m.serving);
  const replies = await Promise.all(serving.map((m) => m.request({ type: 'state' }, 1500).catch(() => null)));
  const leaders = replies.map((r) => (r?.status as { leader?: string } | undefined)?.leader ?? null);
  const named = leaders[0];
  if (named === null || named === undefined || !leaders.every((l) => l === named)) return undefined;
  return members.find((m) => m.id === named);
}

/** Ends every fault: links healed, broker up, every member running (restarted when needed). */
async function healAll(
  members: readonly MemberHandle[],
  broker: BrokerControl,
  runProblems: string[],
  log: (line: string) => void,
): Promise<void> {
  broker.faults?.heal();
  if (broker.faults !== null && !broker.faults.up)
    await bounded(broker.startAgain(), HEAL_TIMEOUT_MS, 'broker');
  for (const m of members) {
    if (m.paused) m.resume();
    if (m.running) continue;
    log(`final heal: ${m.id} is down, starting it again`);
    try {
      await bounded(m.start(broker.url, false), HEAL_TIMEOUT_MS, `restart ${m.id}`);
    } catch (err) {
      runProblems.push(`member ${m.id} could not be brought back: ${String(err)}`);
    }
  }
}

/** Every running member must answer a linearizable read of every key within the bound. */
async function finalReads(
  members: readonly MemberHandle[],
  workload: Workload,
  runProblems: string[],
  log: (line: string) => void,
): Promise<void> {
  workload.phase = FINAL_PHASE;
  await Promise.all(
    members
      .filter((m) => m.running)
      .map(async (m) => {
        const started = performance.now();
        for (const key of workload.keys) {
          for (;;) {
            const op = await workload.run(m, `${m.id}/final`, key, null);
            if (op.outcome === 'ok') break;
            if (performance.now() - started > FINAL_READ_BOUND_MS) {
              runProblems.push(
                `member ${m.id} served no linearizable read of ${key} within ${FINAL_READ_BOUND_MS} ms`,
              );
              return;
            }
            await sleep(100);
          }
        }
        log(`final reads: ${m.id} served all keys after ${Math.round(performance.now() - started)} ms`);
      }),
  );
}

type StateReply = { local: Record<string, string>; streamed: Record<string, string> };

/** Waits until every running member's local state is the same and its stream leads to it. */
async function converge(
  members: readonly MemberHandle[],
  runProblems: string[],
): Promise<Map<string, Record<string, string>>> {
  const deadline = Date.now() + CONVERGE_BOUND_MS;
  const sorted = (s: Record<string, string>): string => JSON.stringify(Object.entries(s).sort());
  for (;;) {
    const states = new Map<string, StateReply>();
    for (const m of members.filter((x) => x.running)) {
      const reply = await m.request({ type: 'state' }, 5000).catch(() => null);
      if (reply !== null) states.set(m.id, reply as unknown as StateReply);
    }
    const locals = [...states.values()].map((s) => sorted(s.local));
    const agreed = locals.every((l) => l === locals[0]);
    const streamsCaughtUp = [...states.values()].every((s) => sorted(s.local) === sorted(s.streamed));
    if ((agreed && streamsCaughtUp) || Date.now() > deadline) {
      if (!streamsCaughtUp)
        for (const [id, s] of states)
          if (sorted(s.local) !== sorted(s.streamed))
            runProblems.push(
              `STREAM ${id}: its stream leads to ${sorted(s.streamed)}, its state is ${sorted(s.local)}`,
            );
      return new Map([...states].map(([id, s]) => [id, s.local]));
    }
    await sleep(200);
  }
}

function printAvailability(
  schedule: readonly PlannedPhase[],
  workload: Workload,
  members: readonly MemberHandle[],
  log: (line: string) => void,
): void {
  const row = (phase: number): string =>
    members
      .map((m) => {
        const a = workload.availability.get(phase)?.get(m.id);
        return a === undefined ? `${m.id} -` : `${m.id} ${a.ok}/${a.total}`;
      })
      .join('  ');
  log('availability (ok/total per member):');
  log(`  before faults: ${row(0)}`);
  for (const p of schedule) {
    log(`  phase ${p.index} ${p.fault} (${p.role}): fault ${row(p.index)} | healed ${row(-p.index)}`);
  }
  log(`  final reads: ${row(FINAL_PHASE)}`);
}
