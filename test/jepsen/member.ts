/**
 * Child process of a fault test: one member, a {@link RaftBinding} on a LevelDB store, driven by
 * the runner over the fork IPC channel. Argument: a JSON {@link MemberConfig}.
 *
 * Requests carry an `rid` echoed in the reply: `write` (proposeInput set), `read` (linearizable
 * get), `state` (local state and the state its stream leads to), `close` (with or without leaving,
 * then exit). Replies say `outcome`: ok, fail (definitely not done) or info (may have happened).
 *
 * The observed stream goes to an append-only file per incarnation: a header line with the number
 * of replayed entries, then one `[key, value]` line per change. Lines are appended synchronously
 * so that a SIGKILL loses at most the change being written, never one in the middle.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { exitWithParent } from '../../bench/util.js';
import { isRaftError, RaftBinding } from '../../src/index.js';

/** What the runner passes to a member process. */
export interface MemberConfig {
  id: string;
  broker: string;
  cluster: string;
  store: string;
  bootstrap: boolean;
  /** An observer replicates and observes but never votes (README, "Voters and observers"). */
  role: 'voter' | 'observer';
  /** The group's voter budget, when it has one. */
  voters?: number;
  incarnation: number;
  streamFile: string;
}

/** Timings realistic for separate processes on a loaded 2-core machine, still fast enough for a test. */
export const MEMBER_TIMINGS = {
  heartbeatTimeout: 100,
  electionTimeout: 300,
  rpcTimeout: 2000,
  startupTimeout: 20_000,
  closeTimeout: 5000,
  // Snapshots deliver a difference instead of log entries, which the stream check cannot place.
  snapshotThreshold: 1_000_000_000,
  snapshotInterval: 3_600_000,
};

/** Under a budget, a voter down this long is replaced: shorter than the nemesis's longest faults. */
export const VOTER_LOSS_TIMEOUT_MS = 3000;

/** How long one proposal may take, retries included. */
export const PROPOSE_TIMEOUT_MS = 2000;

type Request = { rid: number; type: string; key?: string; value?: string; leave?: boolean };
type Reply = Record<string, unknown> & { outcome?: 'ok' | 'fail' | 'info' };

exitWithParent();
const config = JSON.parse(process.argv[2] ?? '{}') as MemberConfig;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const binding = new RaftBinding({
  id: config.id,
  broker: config.broker,
  cluster: config.cluster,
  store: config.store,
  bootstrap: config.bootstrap,
  role: config.role,
  ...(config.voters === undefined ? {} : { voters: config.voters, voterLossTimeout: VOTER_LOSS_TIMEOUT_MS }),
  ...MEMBER_TIMINGS,
});
/** The state this incarnation's stream leads to, for the runner to compare with the local state. */
const streamed = new Map<string, string>();

/** Errors: indefinite ones may still take effect (info); other RaftErrors are definite (fail). */
function classify(err: unknown, write: boolean): Reply {
  const message =
    err instanceof Error ? `${isRaftError(err) ? err.code : err.name}: ${err.message}` : String(err);
  // A non-RaftError breaks the library's contract and says nothing about the outcome: for a write
  // that is "unknown", never "did not happen".
  const indefinite = isRaftError(err) ? err.indefinite : write;
  return { outcome: indefinite ? 'info' : 'fail', error: message };
}

async function handle(r: Request): Promise<Reply> {
  switch (r.type) {
    case 'write':
      try {
        const input = { op: 'set' as const, key: r.key ?? '', value: encoder.encode(r.value ?? '') };
        const { index } = await binding.proposeInput(input, { timeoutMs: PROPOSE_TIMEOUT_MS });
        return { outcome: 'ok', index };
      } catch (err) {
        return classify(err, true);
      }
    case 'read':
      try {
        const value = await binding.get(r.key ?? '', { consistency: 'linearizable' });
        return { outcome: 'ok', value: value === undefined ? null : decoder.decode(value) };
      } catch (err) {
        return classify(err, false);
      }
    case 'state': {
      const local = Object.fromEntries(
        [...(await binding.getState())].map(([k, v]) => [k, decoder.decode(v)]),
      );
      return { local, streamed: Object.fromEntries(streamed), status: binding.status() };
    }
    case 'close':
      await binding.close({ leave: r.leave === true });
      setImmediate(() => process.exit(0));
      return {};
    default:
      return { error: `unknown request ${r.type}` };
  }
}

/** Records the stream: the replay's length is the state's size at subscription (same tick). */
async function recordStream(): Promise<void> {
  const changes = binding.observeStateChange();
  const replay = (await binding.getState()).size;
  writeFileSync(
    config.streamFile,
    `${JSON.stringify({ member: config.id, incarnation: config.incarnation, replay })}\n`,
  );
  for await (const input of changes) {
    const value = input.op === 'set' ? decoder.decode(input.value) : null;
    if (value === null) streamed.delete(input.key);
    else streamed.set(input.key, value);
    appendFileSync(config.streamFile, `${JSON.stringify([input.key, value])}\n`);
  }
}

process.on('message', (message: unknown) => {
  const r = message as Request;
  handle(r).then(
    (reply) => process.send?.({ ...reply, rid: r.rid }),
    (err: unknown) => process.send?.({ rid: r.rid, error: err instanceof Error ? err.message : String(err) }),
  );
});

try {
  await binding.open();
} catch (err) {
  process.send?.({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
recordStream().catch((err: unknown) => {
  console.error(`stream observer ended: ${String(err)}`);
});
process.send?.({ type: 'ready' });
