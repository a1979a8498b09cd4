import { EMPTY_CONFIGURATION, encodeConfiguration, votersOf } from '../core/configuration.js';
import type { CoreInitialState } from '../core/raft.js';
import type { Configuration, Entry, SnapshotMeta } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { Fsm } from '../fsm.js';
import type { RaftStorage, SnapshotRecord } from '../storage/types.js';

/** What a node starts from, read from its storage. */
export interface LoadedState {
  readonly initial: CoreInitialState;
  /** The snapshot to restore the FSM from, if any. */
  readonly snapshot: SnapshotRecord | null;
}

/**
 * StableStore key of the index of the committed configuration that removed this server, written
 * when it left the group (see {@link recordRemoval}); 0 or absent: not removed.
 */
const REMOVED_AT_KEY = 'mqtt-raft/removedAt';

/**
 * Records that a committed configuration at `index` removed this server. Its own log may end before
 * that entry (the leader stops sending to a server it removed), so without this record a restart
 * would take it for a voter of its old configuration and campaign. With it, the node does not
 * campaign until its log holds a configuration at or after `index`, so it can be added back.
 * A lower bound of the index works as well (a server about to leave records one, in case it dies
 * before the outcome is known). `index` 0 clears the record.
 */
export async function recordRemoval(storage: RaftStorage, index: number): Promise<void> {
  await storage.setUint64(REMOVED_AT_KEY, index);
}

/** The index recorded by {@link recordRemoval}, or 0. */
export async function removalIndex(storage: RaftStorage): Promise<number> {
  return (await storage.getUint64(REMOVED_AT_KEY)) ?? 0;
}

const NO_SNAPSHOT: SnapshotMeta = { index: 0, term: 0, config: EMPTY_CONFIGURATION, configIndex: 0 };

/** True when `storage` holds any Raft state: a term, a log entry or a snapshot (hashicorp's HasExistingState). */
export async function hasExistingState(storage: RaftStorage): Promise<boolean> {
  const hard = await storage.readHardState();
  if (hard.term > 0 || (await storage.lastIndex()) > 0) return true;
  return (await storage.list()).length > 0;
}

/**
 * Reads the latest snapshot, the hard state and the log after the snapshot. A gap between the
 * snapshot and the log is corruption: the node must not start on it.
 */
export async function loadState(storage: RaftStorage): Promise<LoadedState> {
  const hardState = await storage.readHardState();
  const record = (await storage.list())[0] ?? null;
  const snapshot = record?.meta ?? NO_SNAPSHOT;
  const first = await storage.firstIndex();
  const last = await storage.lastIndex();
  if (last > snapshot.index && first > snapshot.index + 1) {
    throw new RaftError(
      'CORRUPTION',
      `the log starts at ${first} but the latest snapshot ends at ${snapshot.index}: entries are missing`,
    );
  }
  const entries = last > snapshot.index ? await storage.getLogs(snapshot.index + 1, last) : [];
  // Entries and hard state may be written separately by stores without batches; a commit index
  // beyond the stored log only means the node forgot it learned of a commit, which is safe.
  const commit = Math.min(hardState.commit, Math.max(last, snapshot.index));
  const term = Math.max(hardState.term, entries.at(-1)?.term ?? 0, snapshot.term);
  const removedAt = await removalIndex(storage);
  return {
    initial: { hardState: { ...hardState, commit, term }, snapshot, entries, removedAt },
    snapshot: record,
  };
}

/**
 * Creates a new group on fresh storage: the first log entry holds `configuration`
 * (hashicorp's BootstrapCluster). Every server listed should be bootstrapped with the same one,
 * or only one server with itself as the only voter.
 */
export async function bootstrapStorage(storage: RaftStorage, configuration: Configuration): Promise<void> {
  if (votersOf(configuration).length === 0) {
    throw new RaftError('INVALID_INPUT', 'bootstrap configuration needs at least one voter');
  }
  const ids = configuration.servers.map((s) => s.id);
  if (new Set(ids).size !== ids.length)
    throw new RaftError('INVALID_INPUT', 'bootstrap configuration lists a server twice');
  if (await hasExistingState(storage)) {
    throw new RaftError('INVALID_INPUT', 'cannot bootstrap: the storage already holds Raft state');
  }
  const entry: Entry = { index: 1, term: 1, type: 'config', data: encodeConfiguration(configuration) };
  await storage.writeBatch({
    resetLog: false,
    entries: [entry],
    hardState: { term: 1, vote: null, commit: 0 },
  });
}

/**
 * Recovers a group that lost its quorum (hashicorp's RecoverCluster): replays the local log into
 * the FSM, writes a snapshot of the result under `configuration`, and empties the log. Every entry
 * this server holds, committed or not, is kept. Run it on every surviving server, with the node
 * stopped, then start them.
 */
export async function recoverStorage(
  storage: RaftStorage,
  fsm: Fsm,
  configuration: Configuration,
): Promise<void> {
  if (votersOf(configuration).length === 0) {
    throw new RaftError('INVALID_INPUT', 'recovery configuration needs at least one voter');
  }
  const { initial, snapshot } = await loadState(storage);
  if (snapshot !== null) await fsm.restore((await storage.open(snapshot.id)).chunks, snapshot.meta);
  let index = initial.snapshot.index;
  let term = initial.snapshot.term;
  for (const entry of initial.entries) {
    if (entry.type === 'command') await fsm.apply(entry);
    index = entry.index;
    term = entry.term;
  }
  const meta: SnapshotMeta = { index, term, config: configuration, configIndex: index };
  const state = await fsm.snapshot();
  const sink = await storage.create(meta);
  try {
    await state.persist(sink);
    await sink.close();
  } catch (err) {
    await sink.cancel();
    throw err;
  } finally {
    state.release?.();
  }
  // resetLog drops every stored entry: the log starts afresh after the recovery snapshot.
  await storage.writeBatch({
    resetLog: true,
    entries: [],
    hardState: { term: Math.max(initial.hardState.term, term), vote: null, commit: index },
  });
}
