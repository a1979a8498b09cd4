import { type Clock, sleep } from '../../src/clock.js';
import { seededRandom } from '../../src/core/random.js';
import { isRaftError } from '../../src/errors.js';
import type { HistoryRecorder, Op } from '../jepsen/history.js';
import type { SimProcess } from './process.js';

/**
 * How long a client waits for a write. Longer than the liveness bound after the heal, so a write
 * that hangs on a dead leader shows up as an operation still pending past the bound.
 */
export const WRITE_TIMEOUT_MS = 20_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The clients of a run: a few per member, each running one operation at a time until `stopAt`:
 * writes of unique values (`<client>#<n>`) and linearizable reads, on a few keys. Every invocation
 * and completion goes into the history. A call whose process dies stays open ("info"): it may or
 * may not have happened.
 */
export class Clients {
  /** Calls sent and not yet answered (a dead process's calls are answered `died`). */
  inFlight = 0;
  private readonly loops: Array<Promise<void>> = [];

  constructor(
    private readonly clock: Clock,
    private readonly recorder: HistoryRecorder,
    readonly keys: readonly string[],
    private readonly seed: number,
  ) {}

  /** Starts `perMember` clients on each process, invoking until `stopAt`. */
  start(processes: readonly SimProcess[], perMember: number, stopAt: number): void {
    processes.forEach((p, m) => {
      for (let c = 0; c < perMember; c++) {
        this.loops.push(this.client(p, `${p.id}/c${c}`, this.seed * 1000 + m * 10 + c, stopAt));
      }
    });
  }

  private async client(p: SimProcess, name: string, seed: number, stopAt: number): Promise<void> {
    const random = seededRandom(seed);
    let n = 0;
    for (;;) {
      await sleep(this.clock, 5 + random.int(60));
      if (this.clock.now() >= stopAt) return;
      if (!p.serving) continue;
      const key = this.keys[random.int(this.keys.length)] as string;
      if (random.float() < 0.5) await this.write(p, name, key, `${name}#${++n}`);
      else await this.read(p, name, key);
    }
  }

  /** Writes `value` to `key` through `p`; the op, completed unless the process died. */
  async write(p: SimProcess, process: string, key: string, value: string): Promise<Op> {
    const op = this.recorder.invoke(process, p.id, key, 'write', value);
    const input = { op: 'set' as const, key, value: encoder.encode(value) };
    await this.settle(
      op,
      p.call((b) => b.proposeInput(input, { timeoutMs: WRITE_TIMEOUT_MS }).then(() => null)),
    );
    return op;
  }

  /** A linearizable read of `key` through `p`. */
  async read(p: SimProcess, process: string, key: string): Promise<Op> {
    const op = this.recorder.invoke(process, p.id, key, 'read', null);
    await this.settle(
      op,
      p.call(async (b) => {
        const value = await b.get(key, { consistency: 'linearizable' });
        return value === undefined ? null : decoder.decode(value);
      }),
    );
    return op;
  }

  private async settle(op: Op, call: ReturnType<SimProcess['call']>): Promise<void> {
    this.inFlight++;
    const result = await call;
    this.inFlight--;
    if ('died' in result) return;
    if (result.ok) {
      this.recorder.complete(op, 'ok', result.value as string | null);
      return;
    }
    const err = result.error;
    const message = isRaftError(err) ? `${err.code}: ${err.message}` : String(err);
    // Only the library's word that nothing happened makes a write "fail"; anything else is unknown.
    const indefinite = isRaftError(err) ? err.indefinite : op.kind === 'write';
    this.recorder.complete(op, indefinite ? 'info' : 'fail', null, message);
  }
}
