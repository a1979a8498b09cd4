import { describe, expect, it } from 'vitest';
import { check, type Verdict } from './checker.js';
import type { Op } from './history.js';
import { checkRegister, type Model } from './linearizability.js';
import type { StreamRecord } from './streams.js';

/** A member's stream record: incarnation 0 and an empty replay unless given. */
function stream(
  member: string,
  live: StreamRecord['live'],
  options: { incarnation?: number; replay?: StreamRecord['replay'] } = {},
): StreamRecord {
  return { member, incarnation: options.incarnation ?? 0, replay: options.replay ?? [], live };
}

/** Builds histories by hand: `w('x', 'a', 0, 10)` is a write of x=a invoked at 0 and acknowledged at 10. */
function builder() {
  const ops: Op[] = [];
  const add = (op: Omit<Op, 'id' | 'member'>): Op => {
    const full = { ...op, id: ops.length, member: op.process.split('/')[0] ?? op.process };
    ops.push(full);
    return full;
  };
  return {
    ops,
    w: (
      key: string,
      value: string,
      invoke: number,
      complete: number | null,
      outcome: Op['outcome'] = 'ok',
      process = 'n1/c0',
    ) => add({ process, key, kind: 'write', value, invoke, complete, outcome }),
    r: (key: string, value: string | null, invoke: number, complete: number, process = 'n2/c0') =>
      add({ process, key, kind: 'read', value, invoke, complete, outcome: 'ok' }),
  };
}

/** Fails unless the verdict rejects the history for the expected reason. */
function expectRejected(verdict: Verdict, reason: RegExp): void {
  expect(verdict.valid, 'the checker accepted a bad history').toBe(false);
  expect(verdict.problems.join('\n')).toMatch(reason);
}

function expectAccepted(verdict: Verdict): void {
  expect(verdict.problems).toEqual([]);
  expect(verdict.linearizable).toBe('yes');
  expect(verdict.valid).toBe(true);
}

describe('linearizable histories are accepted', () => {
  it('sequential writes and reads, from the initial null', () => {
    const h = builder();
    h.r('x', null, 0, 5);
    h.w('x', 'a', 10, 20);
    h.r('x', 'a', 30, 40);
    h.w('x', 'b', 50, 60);
    h.r('x', 'b', 70, 80);
    expectAccepted(check({ history: h.ops }));
  });

  it('reads concurrent with a write may see either value, and concurrent writes in either order', () => {
    const h = builder();
    h.w('x', 'a', 0, 100);
    h.r('x', null, 5, 15);
    h.r('x', 'a', 10, 20, 'n3/c0');
    h.w('y', 'p', 200, 300, 'ok', 'n1/c0');
    h.w('y', 'q', 210, 290, 'ok', 'n2/c1');
    h.r('y', 'p', 310, 320);
    h.r('y', 'p', 330, 340, 'n3/c1');
    expectAccepted(check({ history: h.ops }));
  });

  it('an indefinite write that took effect, even late, and one that never did', () => {
    const h = builder();
    h.w('x', 'a', 0, null, 'info');
    h.w('x', 'b', 10, 20);
    h.r('x', 'b', 30, 40);
    h.r('x', 'a', 50, 60);
    h.w('y', 'never', 0, 50, 'info');
    h.r('y', null, 100, 110);
    h.w('y', 'c', 120, 130);
    h.r('y', 'c', 140, 150);
    expectAccepted(check({ history: h.ops }));
  });

  it('failed writes and reads that did not complete are ignored', () => {
    const h = builder();
    h.w('x', 'a', 0, 10, 'fail');
    h.r('x', null, 20, 30);
    h.ops.push({
      id: 99,
      process: 'n3/c0',
      member: 'n3',
      key: 'x',
      kind: 'read',
      value: null,
      invoke: 25,
      complete: null,
      outcome: 'info',
    });
    expectAccepted(check({ history: h.ops }));
  });

  it('consistent streams, replays and equal final states', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    h.w('y', 'b', 20, 30);
    h.w('x', 'c', 40, 50);
    const streams: StreamRecord[] = [
      stream('n1', [
        ['x', 'a'],
        ['y', 'b'],
        ['x', 'c'],
      ]),
      stream('n2', [
        ['x', 'a'],
        ['y', 'b'],
      ]),
      stream('n2', [['x', 'c']], {
        incarnation: 1,
        replay: [
          ['x', 'a'],
          ['y', 'b'],
        ],
      }),
    ];
    const finalStates = new Map([
      ['n1', { x: 'c', y: 'b' }],
      ['n2', { x: 'c', y: 'b' }],
    ]);
    const verdict = check({ history: h.ops, streams, finalStates });
    expectAccepted(verdict);
    expect(verdict.streams?.replaysChecked).toBe(3);
    expect(verdict.converged).toBe(true);
  });
});

describe('each kind of bad history is rejected on its own', () => {
  it('a stale read', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    h.w('x', 'b', 20, 30);
    h.r('x', 'a', 40, 50);
    h.r('x', 'b', 60, 70);
    const verdict = check({ history: h.ops });
    expectRejected(verdict, /key x: NOT linearizable/);
    expect(verdict.linearizable).toBe('no');
    expect(verdict.lost).toEqual([]);
  });

  it('a lost acknowledged write, reported by name', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    const lost = h.w('x', 'b', 20, 30, 'ok', 'n3/c1');
    h.r('x', 'a', 40, 50);
    h.w('y', 'gone', 0, 10);
    h.r('y', null, 20, 30);
    const verdict = check({ history: h.ops });
    expectRejected(verdict, /LOST #1 n3\/c1@n3 write x=b ok/);
    expect(verdict.lost.map((l) => l.write.value)).toEqual(['b', 'gone']);
    expect(verdict.lost[0]?.write).toBe(lost);
  });

  it('an acknowledged write that no member applied, on a key too hot for the register rule', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    // b is acknowledged but never applied; c overlaps it, so "b then c at once" explains every read.
    h.w('x', 'b', 20, 30, 'ok', 'n3/c0');
    h.w('x', 'c', 25, 35, 'ok', 'n1/c1');
    h.r('x', 'c', 40, 50);
    const streams: StreamRecord[] = [
      stream('n1', [
        ['x', 'a'],
        ['x', 'c'],
      ]),
    ];
    expect(check({ history: h.ops }).valid).toBe(true);
    const verdict = check({ history: h.ops, streams });
    expectRejected(verdict, /LOST #1 n3\/c0@n3 write x=b ok .*: no member applied it/);
    expect(verdict.linearizable).toBe('yes');
    expect(verdict.lost.map((l) => l.write.value)).toEqual(['b']);
  });

  it('a read of a value never written', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    h.r('x', 'zzz', 20, 30);
    const verdict = check({ history: h.ops });
    expectRejected(verdict, /IMPOSSIBLE READ .* x=zzz ok .*: value never written/);
    expect(verdict.linearizable).toBe('no');
  });

  it('a read of a write that failed definitely', () => {
    const h = builder();
    h.w('x', 'a', 0, 10, 'fail');
    h.r('x', 'a', 20, 30);
    expectRejected(check({ history: h.ops }), /IMPOSSIBLE READ .*failed definitely/);
  });

  it('a duplicate apply: an overwritten value comes back', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    h.w('x', 'b', 20, 30);
    h.r('x', 'b', 40, 50);
    h.r('x', 'a', 60, 70);
    const verdict = check({ history: h.ops });
    expectRejected(verdict, /cannot linearize #3 .*x=a/);
    expect(verdict.lost).toEqual([]);
  });

  it('a duplicate in a stream', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    h.w('x', 'b', 20, 30);
    const streams: StreamRecord[] = [
      stream('n1', [
        ['x', 'a'],
        ['x', 'b'],
        ['x', 'a'],
      ]),
    ];
    expectRejected(check({ history: h.ops, streams }), /STREAM n1#0 delivered x=a twice/);
  });

  it('a gap in a stream, and a replay that does not match the sequence', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    h.w('x', 'b', 20, 30);
    h.w('x', 'c', 40, 50);
    const gap: StreamRecord[] = [
      stream('n1', [
        ['x', 'a'],
        ['x', 'b'],
        ['x', 'c'],
      ]),
      stream('n2', [
        ['x', 'a'],
        ['x', 'c'],
      ]),
    ];
    expectRejected(
      check({ history: h.ops, streams: gap }),
      /STREAM n2#0 applied x=c after x=a, n1#0 applied x=b/,
    );
    const badReplay: StreamRecord[] = [
      stream('n1', [
        ['x', 'a'],
        ['x', 'b'],
        ['x', 'c'],
      ]),
      stream('n2', [['x', 'c']], { incarnation: 1, replay: [['x', 'a']] }),
    ];
    expectRejected(
      check({ history: h.ops, streams: badReplay }),
      /STREAM n2#1 replayed .*"a".* the sequence had .*"b"/,
    );
  });

  it('members whose final states differ', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    const finalStates = new Map([
      ['n1', { x: 'a' }],
      ['n2', {}],
    ]);
    const verdict = check({ history: h.ops, finalStates });
    expectRejected(verdict, /DIVERGED n2/);
    expect(verdict.converged).toBe(false);
  });
});

describe('the self-tests catch a checker that accepts bad histories', () => {
  // A wrong specification (a read may return anything) accepts the stale read above; the same
  // assertion the self-tests use must then fail, so a broken checker cannot pass them.
  const anythingGoes: Model = (state, op) => ({ ok: true, next: op.kind === 'write' ? op.value : state });

  it('a broken model accepts a stale read, and expectRejected then fails', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    h.w('x', 'b', 20, 30);
    h.r('x', 'a', 40, 50);
    h.r('x', 'b', 60, 70);
    const broken = check({ history: h.ops, model: anythingGoes });
    expect(broken.valid).toBe(true);
    expect(() => expectRejected(broken, /NOT linearizable/)).toThrow(/accepted a bad history/);
  });

  it('an accepting verdict for a lost write fails expectRejected', () => {
    const h = builder();
    h.w('x', 'a', 0, 10);
    const verdict = check({ history: h.ops });
    expect(() => expectRejected(verdict, /LOST/)).toThrow(/accepted a bad history/);
  });
});

describe('the search is bounded', () => {
  it('reports unknown instead of searching past its budget', () => {
    const h = builder();
    // Many concurrent writes and reads: more configurations than a budget of 50 steps can explore.
    for (let i = 0; i < 30; i++) h.w('x', `v${i}`, i, 1000 + i, 'ok', `n${i}/c0`);
    for (let i = 0; i < 30; i++) h.r('x', `v${29 - i}`, 2000 + 10 * i, 2005 + 10 * i);
    const result = checkRegister(h.ops, { maxSteps: 50, maxMs: 10_000 });
    expect(result.status).toBe('unknown');
  });

  it('checks a few thousand concurrent ops of one key quickly', () => {
    const h = builder();
    let t = 0;
    for (let i = 0; i < 1500; i++) {
      h.w('x', `v${i}`, t, t + 15, 'ok', `n${i % 3}/c0`);
      h.r('x', i === 0 ? null : `v${i - 1}`, t + 1, t + 3, `n${(i + 1) % 3}/c1`);
      h.r('x', `v${i}`, t + 16, t + 20, `n${(i + 2) % 3}/c2`);
      t += 20;
    }
    expect(checkRegister(h.ops).status).toBe('linearizable');
  });
});
