/**
 * The operation history of a fault test: what every client invoked, when, and how it ended. The
 * checker works on these records only, so a history saved as JSON by a failing run can be checked
 * again offline (`checkHistory` in verdict.ts).
 */

/** One client operation on one key of the replicated map. */
export interface Op {
  /** Unique within a history, in invocation order. */
  id: number;
  /** The client that ran it, such as `n2/c0`: a client runs one operation at a time. */
  process: string;
  /** The member the client talked to. */
  member: string;
  key: string;
  kind: 'write' | 'read';
  /**
   * For a write, the value written (unique per key). For an ok read, the value returned, null when
   * the key was absent. Null for a read that did not complete ok.
   */
  value: string | null;
  /** Milliseconds on the recorder's clock (the runner's performance.now, or simulated time) when the client sent it. */
  invoke: number;
  /** When the client got the answer; null when it never did. */
  complete: number | null;
  /** ok = acknowledged; fail = definitely did not happen; info = may or may not have happened. */
  outcome: 'ok' | 'fail' | 'info';
  /** Why an op that is not ok failed, as the member reported it (for diagnosis only). */
  error?: string;
}

/** The ops of `history` grouped by key, each group in invocation order. */
export function byKey(history: readonly Op[]): Map<string, Op[]> {
  const groups = new Map<string, Op[]>();
  for (const op of history) {
    let group = groups.get(op.key);
    if (group === undefined) {
      group = [];
      groups.set(op.key, group);
    }
    group.push(op);
  }
  for (const group of groups.values()) group.sort((a, b) => a.invoke - b.invoke || a.id - b.id);
  return groups;
}

/** The time an op is known to have ended by; an op that never completed may end at any time. */
export function endOf(op: Op): number {
  return op.outcome === 'ok' && op.complete !== null ? op.complete : Number.POSITIVE_INFINITY;
}

/** A short human-readable form of an op, for reports: `#12 n1/c0 write x=n1/c0#4 ok [103.2, 110.9]`. */
export function describeOp(op: Op): string {
  const value = op.value === null ? 'null' : op.value;
  const end = op.complete === null ? '…' : op.complete.toFixed(1);
  return `#${op.id} ${op.process}@${op.member} ${op.kind} ${op.key}=${value} ${op.outcome} [${op.invoke.toFixed(1)}, ${end}]`;
}

/** Records operations as they happen; ids are given in invocation order. */
export class HistoryRecorder {
  private readonly ops: Op[] = [];

  /** `now` stamps invocations and completions: the runner's monotonic clock, or a simulation's. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Records an invocation and returns the op, to be completed with {@link complete}. */
  invoke(process: string, member: string, key: string, kind: Op['kind'], value: string | null): Op {
    const op: Op = {
      id: this.ops.length,
      process,
      member,
      key,
      kind,
      value: kind === 'write' ? value : null,
      invoke: this.now(),
      complete: null,
      outcome: 'info',
    };
    this.ops.push(op);
    return op;
  }

  /** Completes `op`. A read's value counts only when it is ok. */
  complete(op: Op, outcome: Op['outcome'], readValue: string | null = null, error?: string): void {
    op.complete = this.now();
    op.outcome = outcome;
    if (error !== undefined) op.error = error;
    if (op.kind === 'read') op.value = outcome === 'ok' ? readValue : null;
  }

  /** Every op recorded so far (ops still running stay `info` with `complete: null`). */
  all(): readonly Op[] {
    return this.ops;
  }
}
