/**
 * Named anomalies that a linearizability verdict alone does not name: acknowledged writes that were
 * lost, reads of values nobody wrote, and reads of writes that definitely failed.
 */
import { describeOp, type Op } from './history.js';

/** An acknowledged write shown lost, with the read that shows it. */
export interface LostWrite {
  write: Op;
  evidence: Op;
  why: string;
}

/**
 * Acknowledged writes that no read can explain. A write w (ok) is **lost** when no ok read ever
 * returned its value and some ok read r of the same key was invoked after w completed and returned
 * - null (the workload never deletes, so the register was never emptied after w took effect), or
 * - a value v whose write completed (ok) before w was invoked.
 * In every linearization w lies between v's write and r (real-time order), and values are unique,
 * so r can only have read v if w never took effect. A write that some read observed took effect
 * at least for a while: a later read of an older value is then a stale read, which the
 * linearizability search reports, not a lost write. So every write named here is part of a
 * violation, and nothing any read saw is named. Final reads after healing are ordinary reads in the
 * history, so the converged state is covered by the same rule. Only valid for histories without
 * deletes (the workload never deletes).
 */
export function lostWrites(opsOfKey: readonly Op[]): LostWrite[] {
  const writes = new Map<string, Op>();
  for (const op of opsOfKey) if (op.kind === 'write' && op.value !== null) writes.set(op.value, op);
  const reads = opsOfKey.filter((op) => op.kind === 'read' && op.outcome === 'ok');
  const observed = new Set(reads.map((r) => r.value));
  const lost: LostWrite[] = [];
  for (const w of opsOfKey) {
    if (w.kind !== 'write' || w.outcome !== 'ok' || w.complete === null || observed.has(w.value)) continue;
    const wEnd = w.complete;
    for (const r of reads) {
      if (r.invoke <= wEnd) continue;
      const why = staleness(r, w, writes);
      if (why !== null) {
        lost.push({ write: w, evidence: r, why });
        break;
      }
    }
  }
  return lost;
}

/** Why read r cannot follow write w, or null when it can. */
function staleness(r: Op, w: Op, writes: ReadonlyMap<string, Op>): string | null {
  if (r.value === null) return 'a later read found the key absent';
  const source = writes.get(r.value);
  if (source === undefined || source === w) return null;
  if (source.outcome === 'ok' && source.complete !== null && source.complete < w.invoke)
    return `a later read returned ${r.value}, written before ${w.value} was invoked`;
  return null;
}

/**
 * Acknowledged writes that no member ever applied: the value is in no member's observed stream
 * (replays included) and no read returned it. With a hot key, a register history explains such a
 * write as "overwritten at once" and stays linearizable, so the streams are the stronger witness:
 * every member observes every entry it applies, in order, from its subscription on, so while at
 * least one member is up and subscribed at every moment (the nemesis runs one fault at a time, and
 * a broker restart stops no process) every committed entry appears in some stream.
 */
export function unappliedWrites(
  history: readonly Op[],
  applied: ReadonlySet<string>,
  itemId: (key: string, value: string) => string,
): LostWrite[] {
  const read = new Set<string>();
  for (const op of history)
    if (op.kind === 'read' && op.outcome === 'ok' && op.value !== null) read.add(itemId(op.key, op.value));
  const lost: LostWrite[] = [];
  for (const w of history) {
    if (w.kind !== 'write' || w.outcome !== 'ok' || w.value === null) continue;
    const id = itemId(w.key, w.value);
    if (!applied.has(id) && !read.has(id))
      lost.push({
        write: w,
        evidence: w,
        why: 'no member applied it (in no observed stream) and no read saw it',
      });
  }
  return lost;
}

/** Ok reads that returned a value no write of that key wrote, or that a definitely failed write wrote. */
export function impossibleReads(opsOfKey: readonly Op[]): Array<{ read: Op; why: string }> {
  const writes = new Map<string, Op>();
  for (const op of opsOfKey) if (op.kind === 'write' && op.value !== null) writes.set(op.value, op);
  const found: Array<{ read: Op; why: string }> = [];
  for (const r of opsOfKey) {
    if (r.kind !== 'read' || r.outcome !== 'ok' || r.value === null) continue;
    const source = writes.get(r.value);
    if (source === undefined) found.push({ read: r, why: 'value never written' });
    else if (source.outcome === 'fail')
      found.push({ read: r, why: `value of a write that failed definitely (${describeOp(source)})` });
  }
  return found;
}

/** Report lines for lost writes. */
export function describeLost(lost: readonly LostWrite[]): string[] {
  return lost.map((l) =>
    l.evidence === l.write
      ? `LOST ${describeOp(l.write)}: ${l.why}`
      : `LOST ${describeOp(l.write)}: ${l.why} (${describeOp(l.evidence)})`,
  );
}
