/**
 * The workload: a few clients per member, each running one operation at a time on a few keys,
 * half writes of unique values (`<client>#<n>`), half linearizable reads. Every invocation and
 * completion goes into the history; availability is counted per fault phase and member.
 */
import { seededRandom } from '../../src/core/random.js';
import type { HistoryRecorder, Op } from './history.js';
import type { MemberHandle } from './members.js';

/** Beyond the member's own deadlines (proposal 2 s, read 2 s): an answer later than this is lost. */
export const OP_TIMEOUT_MS = 6000;
/** Pause between a client's operations, so the load leaves CPU for elections on a shared 2-core machine. */
const THINK_MS = 25;
/** How often a client whose member is down looks again. */
const IDLE_POLL_MS = 20;

export interface Availability {
  ok: number;
  total: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Workload {
  /** The phase that operations invoked from now on are counted in. */
  phase = 0;
  /** phase → member → counts. */
  readonly availability = new Map<number, Map<string, Availability>>();
  private stopped = false;
  private loops: Array<Promise<void>> = [];

  constructor(
    private readonly members: readonly MemberHandle[],
    private readonly recorder: HistoryRecorder,
    readonly keys: readonly string[],
    private readonly clientsPerMember: number,
    private readonly seed: number,
  ) {}

  start(): void {
    this.members.forEach((member, m) => {
      for (let c = 0; c < this.clientsPerMember; c++)
        this.loops.push(this.client(member, `${member.id}/c${c}`, this.seed * 1000 + m * 10 + c));
    });
  }

  /** Stops invoking; resolves once every client's last operation has completed or timed out. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async client(member: MemberHandle, name: string, seed: number): Promise<void> {
    const random = seededRandom(seed);
    let n = 0;
    while (!this.stopped) {
      if (!member.serving) {
        await sleep(IDLE_POLL_MS);
        continue;
      }
      const key = this.keys[random.int(this.keys.length)] as string;
      const write = random.float() < 0.5;
      await this.run(member, name, key, write ? `${name}#${++n}` : null);
      await sleep(THINK_MS);
    }
  }

  /** Runs one operation: a write of `value`, or a read when `value` is null. */
  async run(member: MemberHandle, process: string, key: string, value: string | null): Promise<Op> {
    const write = value !== null;
    const phase = this.phase;
    const op = this.recorder.invoke(process, member.id, key, write ? 'write' : 'read', value);
    try {
      const reply = await member.request({ type: write ? 'write' : 'read', key, value }, OP_TIMEOUT_MS);
      const outcome = reply.outcome ?? 'info';
      this.recorder.complete(
        op,
        outcome,
        typeof reply.value === 'string' ? reply.value : null,
        typeof reply.error === 'string' ? reply.error : undefined,
      );
    } catch (err) {
      // No answer (the process died, froze or the channel closed): a write may still apply.
      this.recorder.complete(op, write ? 'info' : 'fail', null, `no answer: ${String(err)}`);
    }
    this.count(phase, member.id, op.outcome === 'ok');
    return op;
  }

  private count(phase: number, member: string, ok: boolean): void {
    let perMember = this.availability.get(phase);
    if (perMember === undefined) {
      perMember = new Map();
      this.availability.set(phase, perMember);
    }
    const counts = perMember.get(member) ?? { ok: 0, total: 0 };
    counts.total++;
    if (ok) counts.ok++;
    perMember.set(member, counts);
  }
}
