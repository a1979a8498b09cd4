import { type Clock, sleep, systemClock } from '../clock.js';
import type { Entry, SnapshotMeta } from '../core/types.js';
import { RaftError } from '../errors.js';
import type { Fsm, FsmSnapshot } from '../fsm.js';
import { copyBytes } from '../storage/bytes.js';
import type { SnapshotSink } from '../storage/types.js';
import { type Admission, DedupeTable } from './dedupe-table.js';
import type { Input } from './input.js';
import { kvDiff } from './kv-diff.js';
import { type KvState, readKvSnapshot, writeKvSnapshot } from './kv-snapshot.js';
import { ObserverQueue } from './observer-queue.js';
import { decodeProposal } from './proposal.js';
import { sortInSlices } from './sliced-sort.js';
import {
  type AppliedChange,
  type IndexedObserveOptions,
  mapObserver,
  type StateCapture,
  type StateObservation,
} from './state-observation.js';

export type { AppliedChange } from './state-observation.js';

/** Options of a {@link RaftFsm}. */
export interface RaftFsmOptions {
  /** Changes an observer may have queued before it is ended with `OBSERVER_OVERFLOW`. Default 10,000. */
  observerQueueLimit?: number;
  /** Whose zero-delay timers give the event loop turns while a snapshot is sorted. Default: the system's. */
  clock?: Clock;
}

/** Entries sorted between two turns of the event loop while a snapshot is written. */
const SORT_SLICE = 8192;

/** What {@link RaftFsm.apply} returns: the response of the proposer's `apply()` on the leader. */
export interface ApplyResult {
  /**
   * `applied` the first time; `duplicate` when this (session, seq) was applied before, so the
   * entry changed nothing; `expired` when it was not applied and never will be (see {@link Admission}).
   */
  readonly outcome: Admission;
}

/**
 * The replicated key-value state machine of the state-sync binding. Each committed entry holds a
 * proposal (`proposal.ts`); the FSM applies its input unless the dedupe table says that proposal (member
 * session, seq) was applied before (thesis §6.3), so a retried proposal changes the state once.
 * The dedupe table is part of the state and of its snapshots, so every member decides alike.
 *
 * Observers ({@link observe}) each get a bounded queue of their own: apply never waits for them.
 * A consumer that falls more than `observerQueueLimit` changes behind gets the changes queued before
 * the gap, then `OBSERVER_OVERFLOW`, and is dropped; `observe()` again starts from a fresh replay.
 */
export class RaftFsm implements Fsm {
  private state = new Map<string, Uint8Array>();
  /** The group's settings (`SettingInput`): replicated and snapshotted, never observed. */
  private settings = new Map<string, Uint8Array>();
  private dedupe = new DedupeTable();
  private readonly observers = new Set<ObserverQueue<AppliedChange>>();
  private readonly observerQueueLimit: number;
  private readonly clock: Clock;
  private applied = 0;
  private lastChange: AppliedChange | null = null;
  /** Index of the latest change to the state (an applied change or a restore): resuming is exact only after it. */
  private changedAt = 0;

  constructor(options: RaftFsmOptions = {}) {
    const limit = options.observerQueueLimit ?? 10_000;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RaftError('INVALID_CONFIG', 'observerQueueLimit: must be a positive integer');
    }
    this.observerQueueLimit = limit;
    this.clock = options.clock ?? systemClock;
  }

  /** Index of the last applied entry, or of the snapshot restored since (see {@link restore}). */
  get appliedIndex(): number {
    return this.applied;
  }

  /** The last change applied from the log (not from a restore), or null. */
  get lastApplied(): AppliedChange | null {
    return this.lastChange;
  }

  /**
   * Applies a committed entry. Synchronous: observers are only handed the change.
   *
   * @throws RaftError `CORRUPTION` when the entry does not hold a proposal.
   */
  apply(entry: Entry): ApplyResult {
    const { member, seq, ack, input } = decodeProposal(entry.data);
    this.applied = entry.index;
    const outcome = this.dedupe.admit(member, seq, ack);
    if (outcome !== 'applied') return { outcome };
    let change: Input;
    if (input.op === 'setting') {
      this.settings.set(input.key, copyBytes(input.value));
      return { outcome };
    }
    if (input.op === 'set') {
      // Decoded bytes are a view into the entry; a copy lets the entry be collected.
      const value = copyBytes(input.value);
      this.state.set(input.key, value);
      change = { op: 'set', key: input.key, value };
    } else {
      // Deleting a missing key still counts as applied (the seq is recorded) but changes nothing to observe.
      if (!this.state.delete(input.key)) return { outcome };
      change = input;
    }
    this.lastChange = { index: entry.index, input: change };
    this.changedAt = entry.index;
    for (const observer of this.observers) observer.push(this.lastChange);
    return { outcome };
  }

  /**
   * Captures the state and the dedupe table now. Values are never mutated in place (a `set`
   * stores a new array), so the capture shares them and copies only the entry list (unsorted: the
   * capture runs on the apply path) and the table; `persist` sorts the entries in slices that
   * give the event loop turns (sliced-sort.ts), then writes them.
   */
  snapshot(): FsmSnapshot {
    let captured: { entries: [string, Uint8Array][]; state: Omit<KvState, 'entries'> } | null = {
      entries: [...this.state],
      state: { sessions: this.dedupe.records(), settings: sorted(this.settings) },
    };
    return {
      persist: async (sink: SnapshotSink) => {
        if (captured === null) throw new RaftError('INVALID_INPUT', 'snapshot: already released');
        const { entries, state } = captured;
        const sorted = await sortInSlices(entries, SORT_SLICE, () => sleep(this.clock, 0));
        await writeKvSnapshot({ ...state, entries: sorted }, sink);
      },
      release: () => {
        captured = null;
      },
    };
  }

  /**
   * Replaces the state and the dedupe table with a snapshot's. Nothing changes unless the whole
   * snapshot reads cleanly. Observers receive the difference (sets for new or changed keys,
   * deletes for removed keys, in key order), so they stay in step across snapshot installs.
   * {@link appliedIndex} becomes the snapshot's index when `snapshot` is given (the node gives it),
   * else it is left as is (see {@link restoredAt}).
   *
   * @throws RaftError `CORRUPTION` when the data is not a snapshot of this FSM.
   */
  async restore(chunks: AsyncIterable<Uint8Array>, snapshot?: Pick<SnapshotMeta, 'index'>): Promise<void> {
    const { entries, sessions, settings } = await readKvSnapshot(chunks);
    // From here on everything is synchronous, so no apply or observe() can slip in between.
    const before = this.state;
    this.state = entries;
    this.settings = settings;
    this.dedupe = DedupeTable.fromRecords(sessions);
    if (snapshot !== undefined) this.applied = snapshot.index;
    this.changedAt = this.applied;
    // Stryker disable next-line ConditionalExpression: a shortcut; with no observer the difference below is computed and handed to nobody
    if (this.observers.size === 0) return;
    const index = this.applied;
    const diff = kvDiff(before, entries).map((input) => ({ index, input }));
    for (const observer of this.observers) observer.pushRestore(diff);
  }

  /** Records the index of the snapshot just restored, as {@link appliedIndex}. */
  restoredAt(index: number): void {
    this.applied = index;
  }

  /** A copy of the group setting `key` (see `SettingInput`), or undefined. */
  setting(key: string): Uint8Array | undefined {
    const value = this.settings.get(key);
    return value === undefined ? undefined : copyBytes(value);
  }

  /** A copy of one key's value, or undefined. */
  get(key: string): Uint8Array | undefined {
    const value = this.state.get(key);
    return value === undefined ? undefined : copyBytes(value);
  }

  /** A copy of the whole state, in key order. */
  entries(): Map<string, Uint8Array> {
    return new Map(this.sortedEntries().map(([key, value]) => [key, copyBytes(value)]));
  }

  /** A copy of the whole state with the index it reflects ({@link appliedIndex}), taken at one instant. */
  capture(): StateCapture {
    const settings = new Map(sorted(this.settings).map(([key, value]) => [key, copyBytes(value)]));
    return { index: this.applied, state: this.entries(), settings };
  }

  /** Sessions and seqs the dedupe table remembers; bounded whatever the history. */
  dedupeStats(): { sessions: number; seqs: number } {
    return this.dedupe.stats();
  }

  /**
   * Streams the state: first a replay (one `set` per key, in key order), then every later change
   * exactly once, in log order, including the differences of snapshot restores. The replay is
   * captured and the observer registered before this returns, and applies are synchronous, so no
   * change falls between replay and live changes, nor appears in both.
   *
   * Iteration ends (done) when `signal` aborts or the loop breaks (queued changes are dropped), or
   * after {@link closeObservers} (queued changes are delivered first). A consumer more than
   * `observerQueueLimit` changes behind gets what was queued, then a `RaftError` of code
   * `OBSERVER_OVERFLOW`, and is dropped (see {@link ObserverQueue} for the exact bounds).
   */
  observe(signal?: AbortSignal): AsyncIterableIterator<Input> {
    return mapObserver(this.observeIndexed({ signal }).changes, (change) => change.input);
  }

  /**
   * {@link observe} with the log index of every change (see {@link AppliedChange}); with
   * `fromIndex`, a resume without replay, refused with `UNSUPPORTED` if the state changed after it.
   */
  observeIndexed(options: IndexedObserveOptions = {}): StateObservation {
    const { signal, fromIndex } = options;
    const index = this.applied;
    if (fromIndex !== undefined && fromIndex < this.changedAt) {
      throw new RaftError(
        'UNSUPPORTED',
        `changes after index ${fromIndex} are not available: the state keeps no history and last ` +
          `changed at index ${this.changedAt}; observe without fromIndex for a replay of the state`,
      );
    }
    const replay: AppliedChange[] =
      fromIndex === undefined
        ? this.sortedEntries().map(([key, value]) => ({ index, input: { op: 'set', key, value } }))
        : [];
    const observer = new ObserverQueue<AppliedChange>({
      limit: this.observerQueueLimit,
      replay,
      onDetach: (o) => this.observers.delete(o),
      signal,
      copy: copyChange,
      what: 'state observer',
    });
    if (!observer.isDetached) this.observers.add(observer);
    const after = fromIndex ?? 0;
    // A resume past this member's index skips what the caller has seen already.
    const changes =
      after > index
        ? mapObserver(
            observer,
            (c) => c,
            (c) => c.index > after,
          )
        : observer;
    return { index: Math.max(index, after), replayed: replay.length, changes };
  }

  /** Ends every observer's iteration once it has delivered what it queued (the binding closes). */
  closeObservers(): void {
    for (const observer of [...this.observers]) observer.close();
  }

  private sortedEntries(): [string, Uint8Array][] {
    return sorted(this.state);
  }
}

/** The pairs of `map` in key order. */
function sorted(map: ReadonlyMap<string, Uint8Array>): [string, Uint8Array][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A fresh object with its own bytes: a consumer that mutates what it got cannot touch the state. */
function copyChange({ index, input }: AppliedChange): AppliedChange {
  return {
    index,
    input:
      input.op === 'set'
        ? { op: 'set', key: input.key, value: copyBytes(input.value) }
        : { op: 'delete', key: input.key },
  };
}
