/**
 * Linearizability of one register (one key of the map), initial value null: the Wing–Gong–Lowe
 * search with Porcupine's pruning. Operations are events on a doubly linked list ordered by time;
 * the search repeatedly linearizes a call whose operation the model accepts (lifting its call and
 * return out of the list) and backtracks when it meets a return that was not linearized yet. A set
 * of (linearized ops, register value) pairs already explored is memoized, which turns the exponential
 * search into one bounded by the distinct reachable configurations (Lowe 2017; Porcupine).
 */
import { describeOp, endOf, type Op } from './history.js';

/** The answer for one key. `unknown` means the search ran out of budget: neither proved nor refuted. */
export type KeyResult =
  | { status: 'linearizable'; ops: number }
  | { status: 'violation'; ops: number; stuck: Op; window: Op[] }
  | { status: 'unknown'; ops: number; reason: string };

/** Bounds the search so a pathological history yields `unknown` instead of a hang. */
export interface SearchBudget {
  maxSteps: number;
  maxMs: number;
}

export const DEFAULT_BUDGET: SearchBudget = { maxSteps: 20_000_000, maxMs: 20_000 };

interface Entry {
  call: boolean;
  op: number;
  time: number;
  /** For a call: its return entry. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

/**
 * The ops of one key that the search must place. Failed ops did not happen and are dropped, as
 * are reads that did not complete ok (they returned nothing to explain). A write whose outcome is
 * unknown may take effect at any time after its invocation or never: it gets an infinite return
 * time, and "never" is the same as "after everything else". One whose value no ok read returned
 * is dropped altogether: placing it last always explains the rest, so it can only slow the search.
 */
export function searchableOps(ops: readonly Op[]): Op[] {
  const readValues = new Set<string | null>();
  for (const op of ops) if (op.kind === 'read' && op.outcome === 'ok') readValues.add(op.value);
  return ops.filter((op) => {
    if (op.outcome === 'fail') return false;
    if (op.kind === 'read') return op.outcome === 'ok';
    return op.outcome === 'ok' || readValues.has(op.value);
  });
}

/** Builds the event list: calls before returns at equal times, so touching ops count as concurrent. */
function buildList(ops: readonly Op[]): Entry {
  const events: Entry[] = [];
  ops.forEach((op, i) => {
    const ret: Entry = { call: false, op: i, time: endOf(op), match: null, prev: null, next: null };
    events.push({ call: true, op: i, time: op.invoke, match: ret, prev: null, next: null }, ret);
  });
  events.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.op - b.op);
  const head: Entry = { call: false, op: -1, time: -1, match: null, prev: null, next: null };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

function lift(call: Entry): void {
  const ret = call.match as Entry;
  (call.prev as Entry).next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  (ret.prev as Entry).next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

function unlift(call: Entry): void {
  const ret = call.match as Entry;
  (ret.prev as Entry).next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  (call.prev as Entry).next = call;
  if (call.next !== null) call.next.prev = call;
}

/** A sequential specification: whether `op` may run in `state`, and the state after it. */
export type Model = (state: string | null, op: Op) => { ok: boolean; next: string | null };

/** The register: a write always succeeds and sets the value; a read must return the current value. */
export const registerModel: Model = (state, op) => {
  if (op.kind === 'write') return { ok: true, next: op.value };
  return { ok: op.value === state, next: state };
};

/**
 * Checks one key's ops (any outcomes; see {@link searchableOps}). `model` is a parameter so the
 * self-tests can show that a wrong model makes them fail.
 */
export function checkRegister(
  allOps: readonly Op[],
  budget: SearchBudget = DEFAULT_BUDGET,
  model: Model = registerModel,
): KeyResult {
  const ops = searchableOps(allOps);
  const n = ops.length;
  if (n === 0) return { status: 'linearizable', ops: 0 };
  const head = buildList(ops);
  const words = new Uint32Array(Math.ceil(n / 32));
  const seen = new Set<string>();
  const stack: Array<{ entry: Entry; state: string | null }> = [];
  let state: string | null = null;
  let entry = head.next as Entry | null;
  let steps = 0;
  let deepest = -1;
  let stuck: Entry | null = null;
  const started = Date.now();
  const flip = (op: number): void => {
    words[op >>> 5] = (words[op >>> 5] as number) ^ (1 << (op & 31));
  };
  while (head.next !== null) {
    if (++steps > budget.maxSteps)
      return { status: 'unknown', ops: n, reason: `over ${budget.maxSteps} steps` };
    if ((steps & 0xfff) === 0 && Date.now() - started > budget.maxMs)
      return { status: 'unknown', ops: n, reason: `over ${budget.maxMs} ms` };
    const e = entry as Entry;
    if (e.call) {
      const { ok, next } = model(state, ops[e.op] as Op);
      if (ok) {
        flip(e.op);
        const key = `${next === null ? '\u0001' : next}\u0000${words.join(',')}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry: e, state });
          state = next;
          lift(e);
          entry = head.next;
          continue;
        }
        flip(e.op);
      }
      entry = e.next;
      continue;
    }
    // A return of an op not linearized yet: everything linearizable before it has been tried.
    if (stack.length > deepest) {
      deepest = stack.length;
      stuck = e;
    }
    const top = stack.pop();
    if (top === undefined) break;
    unlift(top.entry);
    flip(top.entry.op);
    state = top.state;
    entry = top.entry.next;
  }
  if (head.next === null) return { status: 'linearizable', ops: n };
  const stuckOp = ops[(stuck as Entry).op] as Op;
  return { status: 'violation', ops: n, stuck: stuckOp, window: windowAround(ops, stuckOp) };
}

/**
 * A small counter-example: the op no linearization could place, with the ops that overlap it or
 * ended shortly before it (at most 12, by invocation).
 */
function windowAround(ops: readonly Op[], stuck: Op): Op[] {
  const before = ops
    .filter((op) => endOf(op) < stuck.invoke)
    .sort((a, b) => endOf(b) - endOf(a))
    .slice(0, 4);
  const overlapping = ops.filter((op) => op.invoke <= endOf(stuck) && endOf(op) >= stuck.invoke);
  return [...new Set([...before, ...overlapping])].sort((a, b) => a.invoke - b.invoke).slice(0, 12);
}

/** The window as report lines. */
export function describeWindow(result: Extract<KeyResult, { status: 'violation' }>): string[] {
  return [
    `cannot linearize ${describeOp(result.stuck)}; nearby:`,
    ...result.window.map((op) => `  ${describeOp(op)}`),
  ];
}
