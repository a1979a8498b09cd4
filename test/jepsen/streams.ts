/**
 * Checks of the members' `observeStateChange` streams against each other. Every process of every
 * member (an incarnation) records its stream: the replay it started with (the state at subscription,
 * one set per key) and then every live change. Committed entries form one sequence, so every
 * incarnation's live changes must be a contiguous piece of it: no duplicate, no gap, no other order.
 *
 * Without access to the leader's log, the sequence is reconstructed from the streams themselves:
 * written values are unique, so each change names itself, and "b came right after a" must be the
 * same fact in every stream that saw both. A gap in one stream shows up as a change with two
 * different successors; a reordering as a change with two predecessors; a duplicate directly.
 * Snapshot restores deliver a difference instead of log entries, so the runner keeps snapshots out
 * of fault runs (a large snapshotThreshold) for these checks to be exact.
 */
import type { Op } from './history.js';

/** One incarnation's stream. Values are text; `null` is a delete (the workload does not delete). */
export interface StreamRecord {
  member: string;
  incarnation: number;
  replay: Array<[string, string]>;
  live: Array<[string, string | null]>;
}

export interface StreamReport {
  problems: string[];
  /** Incarnations whose replay could be compared with the reconstructed sequence. */
  replaysChecked: number;
  /** Live changes seen over all incarnations. */
  changes: number;
}

/** A change's name: values are unique per key, so key and value name one write. */
export const itemId = (key: string, value: string | null): string => `${key}=${value ?? '<deleted>'}`;
const whereOf = (s: StreamRecord): string => `${s.member}#${s.incarnation}`;

/** Checks every stream alone, then all of them against each other. */
export function checkStreams(streams: readonly StreamRecord[], history: readonly Op[]): StreamReport {
  const problems: string[] = [];
  checkValues(streams, history, problems);
  for (const s of streams) checkDuplicates(s, problems);
  const { succ, pred } = links(streams, problems);
  const replaysChecked = checkReplays(streams, succ, pred, problems);
  const changes = streams.reduce((n, s) => n + s.live.length, 0);
  return { problems, replaysChecked, changes };
}

/** Every applied value was written by a write that did not fail definitely. */
function checkValues(streams: readonly StreamRecord[], history: readonly Op[], problems: string[]): void {
  const writes = new Map<string, Op>();
  for (const op of history) if (op.kind === 'write') writes.set(itemId(op.key, op.value), op);
  for (const s of streams) {
    for (const [key, value] of [...s.replay, ...s.live]) {
      if (value === null) continue;
      const w = writes.get(itemId(key, value));
      if (w === undefined) problems.push(`${whereOf(s)} applied ${itemId(key, value)}, never written`);
      else if (w.outcome === 'fail')
        problems.push(`${whereOf(s)} applied ${itemId(key, value)}, whose write failed definitely`);
    }
  }
}

function checkDuplicates(s: StreamRecord, problems: string[]): void {
  const seen = new Set<string>();
  for (const [key, value] of s.replay) seen.add(itemId(key, value));
  for (const [key, value] of s.live) {
    const id = itemId(key, value);
    if (seen.has(id)) problems.push(`${whereOf(s)} delivered ${id} twice (duplicate apply)`);
    seen.add(id);
  }
}

/** The successor and predecessor of each change, which all streams must agree on. */
function links(
  streams: readonly StreamRecord[],
  problems: string[],
): { succ: Map<string, string>; pred: Map<string, string> } {
  const succ = new Map<string, string>();
  const pred = new Map<string, string>();
  const firstSeen = new Map<string, string>();
  for (const s of streams) {
    for (let i = 0; i + 1 < s.live.length; i++) {
      const [ka, va] = s.live[i] as [string, string | null];
      const [kb, vb] = s.live[i + 1] as [string, string | null];
      const a = itemId(ka, va);
      const b = itemId(kb, vb);
      const knownNext = succ.get(a);
      const knownPrev = pred.get(b);
      if (knownNext !== undefined && knownNext !== b)
        problems.push(
          `${whereOf(s)} applied ${b} after ${a}, ${firstSeen.get(a)} applied ${knownNext} (gap or other order)`,
        );
      else if (knownPrev !== undefined && knownPrev !== a)
        problems.push(`${whereOf(s)} applied ${b} after ${a}, another stream applied it after ${knownPrev}`);
      if (knownNext === undefined) {
        succ.set(a, b);
        firstSeen.set(a, whereOf(s));
      }
      if (knownPrev === undefined) pred.set(b, a);
    }
  }
  return { succ, pred };
}

/**
 * An incarnation's replay must be the state just before its first live change. That state is
 * known when the sequence can be followed back to its start: a change without predecessor that
 * opens a stream with an empty replay (a member that subscribed before any write).
 */
function checkReplays(
  streams: readonly StreamRecord[],
  succ: ReadonlyMap<string, string>,
  pred: ReadonlyMap<string, string>,
  problems: string[],
): number {
  const want = new Map<string, StreamRecord[]>();
  for (const s of streams) {
    const first = s.live[0];
    if (first === undefined) continue;
    const id = itemId(first[0], first[1]);
    want.set(id, [...(want.get(id) ?? []), s]);
  }
  const origins = streams
    .filter((s) => s.replay.length === 0 && s.live.length > 0)
    .map((s) => itemId(...(s.live[0] as [string, string | null])))
    .filter((id) => !pred.has(id));
  let checked = 0;
  for (const origin of new Set(origins)) {
    const state = new Map<string, string>();
    let id: string | undefined = origin;
    for (let guard = 0; id !== undefined && guard <= succ.size; guard++) {
      for (const s of want.get(id) ?? []) {
        checked++;
        const expected = JSON.stringify([...state].sort());
        const got = JSON.stringify([...s.replay].sort());
        if (expected !== got) problems.push(`${whereOf(s)} replayed ${got}, the sequence had ${expected}`);
      }
      const [key, ...rest] = id.split('=');
      const value = rest.join('=');
      if (value === '<deleted>') state.delete(key as string);
      else state.set(key as string, value);
      id = succ.get(id);
    }
  }
  return checked;
}

/** Every change any stream holds, replays included, by {@link itemId}. */
export function appliedItems(streams: readonly StreamRecord[]): Set<string> {
  const items = new Set<string>();
  for (const s of streams) for (const [key, value] of [...s.replay, ...s.live]) items.add(itemId(key, value));
  return items;
}

/** The state an incarnation's stream leads to: its replay, then its live changes in order. */
export function foldStream(s: StreamRecord): Map<string, string> {
  const state = new Map<string, string>(s.replay);
  for (const [key, value] of s.live) {
    if (value === null) state.delete(key);
    else state.set(key, value);
  }
  return state;
}
