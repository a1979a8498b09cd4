/**
 * The nemesis: a fault schedule derived from the seed alone, and the faults themselves. Targets are
 * chosen by role ("the leader", "a follower", the n-th member): which process that is at run time
 * depends on the election, but the same seed always asks for the same kinds, roles and durations.
 */
import { seededRandom } from '../../src/core/random.js';
import type { BrokerControl } from './brokers.js';
import type { MemberHandle } from './members.js';

export const PROCESS_FAULTS = ['kill', 'pause', 'leave', 'wipe', 'broker-restart'] as const;
export const NETWORK_FAULTS = ['isolate', 'split', 'one-way', 'bridge', 'chaos', 'kick'] as const;
export type FaultKind = (typeof PROCESS_FAULTS)[number] | (typeof NETWORK_FAULTS)[number];
export const ALL_FAULTS: readonly FaultKind[] = [...PROCESS_FAULTS, ...NETWORK_FAULTS];
/** What runs when `--nemesis` is not given: every fault kind (narrow it with `--nemesis`). */
export const DEFAULT_FAULTS: readonly FaultKind[] = ALL_FAULTS;

export function isNetworkFault(kind: FaultKind): boolean {
  return (NETWORK_FAULTS as readonly string[]).includes(kind);
}

export interface PlannedPhase {
  index: number;
  fault: FaultKind;
  role: 'leader' | 'follower';
  /** Picks among candidates (follower, partition sides) deterministically. */
  pick: number;
  faultMs: number;
  healMs: number;
}

/** The phases that fit in `seconds`, each one fault then a heal period. */
export function plan(seed: number, seconds: number, faults: readonly FaultKind[]): PlannedPhase[] {
  const random = seededRandom(seed);
  const phases: PlannedPhase[] = [];
  let budget = seconds * 1000;
  for (let index = 1; faults.length > 0; index++) {
    const faultMs = 3000 + random.int(3000);
    const healMs = 3000 + random.int(1000);
    if (faultMs + healMs > budget) break;
    budget -= faultMs + healMs;
    phases.push({
      index,
      fault: faults[random.int(faults.length)] as FaultKind,
      role: random.float() < 0.5 ? 'leader' : 'follower',
      pick: random.int(1 << 30),
      faultMs,
      healMs,
    });
  }
  return phases;
}

export interface NemesisContext {
  members: readonly MemberHandle[];
  broker: BrokerControl;
  /** The member every serving member names as leader, if any. */
  leader(): Promise<MemberHandle | undefined>;
}

/** An injected fault: what was done, and how to undo it. */
export interface Injected {
  description: string;
  heal(): Promise<void>;
}

/** Waits until `member` has no request in flight (bounded), so closing it cannot cut one short. */
async function drain(member: MemberHandle, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (member.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

async function target(phase: PlannedPhase, ctx: NemesisContext): Promise<MemberHandle> {
  const up = ctx.members.filter((m) => m.running);
  const leader = await ctx.leader();
  if (phase.role === 'leader' && leader !== undefined) return leader;
  const followers = up.filter((m) => m !== leader);
  const pool = followers.length > 0 ? followers : up;
  return pool[phase.pick % pool.length] as MemberHandle;
}

/** Injects `phase`'s fault. */
export async function inject(phase: PlannedPhase, ctx: NemesisContext): Promise<Injected> {
  const url = ctx.broker.url;
  const ids = ctx.members.map((m) => m.id);
  switch (phase.fault) {
    case 'kill': {
      const m = await target(phase, ctx);
      await m.kill();
      return { description: `SIGKILL ${m.id} (${phase.role})`, heal: () => m.start(url, false) };
    }
    case 'pause': {
      const m = await target(phase, ctx);
      m.pause();
      return { description: `SIGSTOP ${m.id} (${phase.role})`, heal: async () => m.resume() };
    }
    case 'leave':
    case 'wipe': {
      const m = await target(phase, ctx);
      m.serving = false;
      await drain(m);
      await m.close(true);
      if (phase.fault === 'wipe') await m.wipe();
      const what = phase.fault === 'wipe' ? 'leave, wipe the store' : 'leave (close)';
      return { description: `${what} ${m.id} (${phase.role}), then rejoin`, heal: () => m.start(url, false) };
    }
    case 'broker-restart':
      await ctx.broker.stop();
      return { description: `stop the ${ctx.broker.kind} broker`, heal: () => ctx.broker.startAgain() };
    default:
      return injectNetwork(phase, ctx, ids);
  }
}

/** The network faults, which need the fault-injecting broker. */
async function injectNetwork(phase: PlannedPhase, ctx: NemesisContext, ids: string[]): Promise<Injected> {
  const fb = ctx.broker.faults;
  if (fb === null) throw new Error(`${phase.fault} needs the aedes fault broker`);
  const heal = async (): Promise<void> => fb.heal();
  const m = await target(phase, ctx);
  const others = ids.filter((id) => id !== m.id);
  switch (phase.fault) {
    case 'isolate':
      fb.isolate(m.id, ids);
      return { description: `isolate ${m.id} (${phase.role})`, heal };
    case 'split': {
      // The target lands in the minority: a leader there must step down (Raft §5.2 with lease checks).
      const shuffled = rotate(others, phase.pick);
      const minority = [m.id, ...shuffled.slice(0, Math.floor(ids.length / 2) - 1)];
      const majority = ids.filter((id) => !minority.includes(id));
      fb.split(minority, majority);
      return { description: `split minority [${minority}] | majority [${majority}]`, heal };
    }
    case 'one-way':
      for (const o of others) fb.block(m.id, o);
      return {
        description: `one-way: ${m.id} (${phase.role}) is not heard by others, still hears them`,
        heal,
      };
    case 'bridge': {
      const shuffled = rotate(others, phase.pick);
      const half = Math.ceil(shuffled.length / 2);
      const a = shuffled.slice(0, half);
      const b = shuffled.slice(half);
      fb.bridge([...a, m.id], [...b, m.id], m.id);
      return { description: `bridge: [${a}] and [${b}] only meet through ${m.id} (${phase.role})`, heal };
    }
    case 'chaos':
      fb.setRule('*', '*', { drop: 0.05, duplicate: 0.05, delayMs: 2, jitterMs: 30 });
      return { description: 'all links: 5% drop, 5% duplicate, 2-32 ms delay (reorders)', heal };
    default: {
      const kicks = (): number => fb.kick(m.id);
      kicks();
      const timer = setInterval(kicks, 1000);
      return {
        description: `kick ${m.id} (${phase.role}) off the broker every second`,
        heal: async () => clearInterval(timer),
      };
    }
  }
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
