/**
 * Child process: one member of the group, a {@link RaftBinding} with a LevelDB store, driven by the
 * bench over the fork IPC channel. Arguments: `<id> <brokerUrl> <dataDir> <bootstrap: 0|1> [groupKey]`.
 *
 * Requests (each carries an `rid` echoed in its reply):
 * - `status`: the binding's status plus the node's persistence counters (entries and synced batches);
 * - `closed`: `concurrency` proposers propose back to back for `durationMs`; replies the count;
 * - `open`: proposals started at a fixed `rate` for `durationMs` (open loop, latency measured from
 *   each proposal's scheduled start); replies `[scheduledStart, end]` pairs (end -1 on failure);
 *   with `prefix`, the i-th proposal sets the key `<prefix><i>`;
 * - `fill`: proposes distinct keys of `valueBytes` until `totalBytes` are in the state.
 */
import { RaftBinding } from '../src/binding/raft-binding.js';
import { exitWithParent, nowMs } from './util.js';

exitWithParent();
const [id = 'a', broker = '', data = '', bootstrap = '0', groupKey = ''] = process.argv.slice(2);
const binding = new RaftBinding({
  id,
  broker,
  store: data,
  bootstrap: bootstrap === '1',
  ...(groupKey === '' ? {} : { groupKey }),
});

type Request = { rid: number; type: string } & Record<string, unknown>;

function num(request: Request, field: string, fallback: number): number {
  const v = request[field];
  return typeof v === 'number' ? v : fallback;
}

let keySeq = 0;
function input(
  valueBytes: number,
  keySpace: number,
  key?: string,
): { op: 'set'; key: string; value: Uint8Array } {
  const n = keySeq++;
  return { op: 'set', key: key ?? `${id}-${n % keySpace}`, value: new Uint8Array(valueBytes).fill(n & 0xff) };
}

async function closedLoop(r: Request): Promise<Record<string, number>> {
  const durationMs = num(r, 'durationMs', 2000);
  const concurrency = num(r, 'concurrency', 1);
  const valueBytes = num(r, 'valueBytes', 256);
  const start = nowMs();
  const end = start + durationMs;
  let ok = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (nowMs() < end) {
      try {
        await binding.proposeInput(input(valueBytes, 10_000), { timeoutMs: 10_000 });
        ok++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, failed, elapsedMs: nowMs() - start };
}

/** Set by a `stop` request: ends a running open loop early. */
let stopOpen = false;

async function openLoop(r: Request): Promise<{ samples: Array<[number, number]> }> {
  const durationMs = num(r, 'durationMs', 2000);
  const rate = num(r, 'rate', 1000);
  const valueBytes = num(r, 'valueBytes', 256);
  const timeoutMs = num(r, 'timeoutMs', 10_000);
  const prefix = typeof r.prefix === 'string' ? r.prefix : null;
  const total = Math.round((rate * durationMs) / 1000);
  const start = nowMs();
  const samples: Array<[number, number]> = [];
  const pending: Array<Promise<void>> = [];
  let started = 0;
  stopOpen = false;
  while (started < total && !stopOpen) {
    const due = Math.min(total, Math.floor(((nowMs() - start) * rate) / 1000) + 1);
    for (; started < due; started++) {
      const scheduled = start + (started * 1000) / rate;
      const sample: [number, number] = [scheduled, -1];
      samples.push(sample);
      pending.push(
        binding
          .proposeInput(input(valueBytes, 10_000, prefix === null ? undefined : `${prefix}${started}`), {
            timeoutMs,
          })
          .then(
            () => {
              sample[1] = nowMs();
            },
            () => undefined,
          ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // Every proposal is bounded by its deadline; the failover step measures when those in flight at
  // the kill resolve, so wait for all of them.
  await Promise.all(pending);
  return { samples: samples.map(([start, end]): [number, number] => [start, end]) };
}

async function fill(r: Request): Promise<Record<string, number>> {
  const totalBytes = num(r, 'totalBytes', 1 << 20);
  const valueBytes = num(r, 'valueBytes', 64 * 1024);
  const concurrency = num(r, 'concurrency', 8);
  const count = Math.ceil(totalBytes / valueBytes);
  let next = 0;
  const start = nowMs();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      await binding.proposeInput(
        { op: 'set', key: `fill-${n}`, value: new Uint8Array(valueBytes).fill(n & 0xff) },
        { timeoutMs: 30_000 },
      );
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { count, elapsedMs: nowMs() - start };
}

function status(): Record<string, unknown> {
  const stats = binding.raftStats();
  return {
    status: binding.status(),
    entriesPersisted: stats.entriesPersisted,
    batchesPersisted: stats.batchesPersisted,
  };
}

async function handle(r: Request): Promise<Record<string, unknown>> {
  switch (r.type) {
    case 'status':
      return status();
    case 'closed':
      return closedLoop(r);
    case 'open':
      return openLoop(r);
    case 'stop':
      stopOpen = true;
      return {};
    case 'fill':
      return fill(r);
    default:
      throw new Error(`unknown request ${r.type}`);
  }
}

process.on('message', (message: unknown) => {
  const r = message as Request;
  handle(r).then(
    (reply) => process.send?.({ ...reply, rid: r.rid }),
    (err: unknown) => process.send?.({ rid: r.rid, error: err instanceof Error ? err.message : String(err) }),
  );
});

const opening = nowMs();
try {
  await binding.open();
  process.send?.({ type: 'ready', openMs: nowMs() - opening });
} catch (err) {
  process.send?.({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
process.on('SIGTERM', () => {
  void binding.close({ leave: false }).finally(() => process.exit(0));
});
