/**
 * The verdict of a fault test: per key linearizability (P-compositionality: a history of
 * independent registers is linearizable iff each register's sub-history is), acknowledged writes
 * shown lost, impossible reads, stream consistency and end-state convergence.
 */
import { describeLost, impossibleReads, type LostWrite, lostWrites, unappliedWrites } from './anomalies.js';
import { byKey, describeOp, type Op } from './history.js';
import {
  checkRegister,
  DEFAULT_BUDGET,
  describeWindow,
  type KeyResult,
  type Model,
  registerModel,
  type SearchBudget,
} from './linearizability.js';
import { appliedItems, checkStreams, itemId, type StreamRecord, type StreamReport } from './streams.js';

/** What the checker is given besides the history. */
export interface CheckInput {
  history: readonly Op[];
  /** Every incarnation's observed stream; omitted when not recorded. */
  streams?: readonly StreamRecord[];
  /** Each member's final local state after healing (key → value text). */
  finalStates?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  budget?: SearchBudget;
  /** The register's specification; only the self-tests replace it. */
  model?: Model;
}

export interface Verdict {
  /** yes only when every key is proved linearizable; unknown when a search ran out of budget. */
  linearizable: 'yes' | 'no' | 'unknown';
  keys: Array<{ key: string; result: KeyResult }>;
  lost: LostWrite[];
  impossible: Array<{ read: Op; why: string }>;
  streams: StreamReport | null;
  /** null when no final states were given. */
  converged: boolean | null;
  /** Every problem found, one line each (empty when valid). */
  problems: string[];
  valid: boolean;
}

/** Checks a history and what came with it. */
export function check(input: CheckInput): Verdict {
  const budget = input.budget ?? DEFAULT_BUDGET;
  const problems: string[] = [];
  const keys: Verdict['keys'] = [];
  const lost: LostWrite[] = [];
  const impossible: Verdict['impossible'] = [];
  for (const [key, ops] of [...byKey(input.history)].sort(([a], [b]) => a.localeCompare(b))) {
    const result = checkRegister(ops, budget, input.model ?? registerModel);
    keys.push({ key, result });
    if (result.status === 'violation')
      problems.push(`key ${key}: NOT linearizable`, ...describeWindow(result));
    if (result.status === 'unknown') problems.push(`key ${key}: linearizability unknown (${result.reason})`);
    lost.push(...lostWrites(ops));
    impossible.push(...impossibleReads(ops));
  }
  if (input.streams !== undefined) {
    // Writes the register rule already named are not named twice.
    const named = new Set(lost.map((l) => l.write));
    const unapplied = unappliedWrites(input.history, appliedItems(input.streams), itemId);
    lost.push(...unapplied.filter((l) => !named.has(l.write)));
  }
  problems.push(...describeLost(lost));
  for (const i of impossible) problems.push(`IMPOSSIBLE READ ${describeOp(i.read)}: ${i.why}`);
  const streams = input.streams === undefined ? null : checkStreams(input.streams, input.history);
  if (streams !== null) problems.push(...streams.problems.map((p) => `STREAM ${p}`));
  const converged = input.finalStates === undefined ? null : convergence(input.finalStates, problems);
  const statuses = keys.map((k) => k.result.status);
  const linearizable = statuses.includes('violation')
    ? 'no'
    : statuses.includes('unknown')
      ? 'unknown'
      : 'yes';
  return { linearizable, keys, lost, impossible, streams, converged, problems, valid: problems.length === 0 };
}

/** True when every member holds the same state; otherwise adds one line per differing member. */
function convergence(
  finalStates: ReadonlyMap<string, Readonly<Record<string, string>>>,
  problems: string[],
): boolean {
  const texts = [...finalStates].map(([member, state]) => ({
    member,
    text: JSON.stringify(Object.entries(state).sort(([a], [b]) => a.localeCompare(b))),
  }));
  const reference = texts[0];
  if (reference === undefined) return true;
  const differing = texts.filter((t) => t.text !== reference.text);
  for (const d of differing)
    problems.push(`DIVERGED ${d.member} holds ${d.text}, ${reference.member} holds ${reference.text}`);
  return differing.length === 0;
}

/** A short summary for the end of a run. */
export function summarize(verdict: Verdict, history: readonly Op[]): string[] {
  const count = (outcome: Op['outcome']): number => history.filter((op) => op.outcome === outcome).length;
  const keyLines = verdict.keys.map(
    ({ key, result }) => `  key ${key}: ${result.status} (${result.ops} ops searched)`,
  );
  return [
    `ops: ${history.length} (ok ${count('ok')}, fail ${count('fail')}, info ${count('info')})`,
    ...keyLines,
    `linearizable: ${verdict.linearizable}`,
    `lost acknowledged writes: ${verdict.lost.length}`,
    `impossible reads: ${verdict.impossible.length}`,
    verdict.streams === null
      ? 'streams: not checked'
      : `streams: ${verdict.streams.problems.length} problems (${verdict.streams.changes} changes, ${verdict.streams.replaysChecked} replays checked)`,
    `converged: ${verdict.converged === null ? 'not checked' : verdict.converged ? 'yes' : 'NO'}`,
    `verdict: ${verdict.valid ? 'PASS' : 'FAIL'}`,
  ];
}
