import { describe, expect, it } from 'vitest';
import { CounterWindow, ReplayGuard } from '../../src/transport/replay-window.js';

describe('CounterWindow', () => {
  it('accepts each counter once, in any order within the window', () => {
    const w = new CounterWindow(64);
    expect([5, 3, 4, 1, 2].map((n) => w.accept(n))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect([1, 2, 3, 4, 5].map((n) => w.accept(n))).toEqual(Array(5).fill('replayed'));
  });

  it('refuses counters that fell below the window, and forgets slots it moved past', () => {
    const w = new CounterWindow(64);
    expect(w.accept(10)).toBe('ok');
    expect(w.accept(10 + 64)).toBe('ok');
    // 10 is 64 below the high-water mark: out of the window, whether seen or not.
    expect(w.accept(10)).toBe('tooOld');
    expect(w.accept(11)).toBe('ok');
    expect(w.accept(11)).toBe('replayed');
    // 74 (seen) and 138 share a ring slot: moving up to 138 must not make 138 look seen.
    expect(w.accept(138)).toBe('ok');
    expect(w.accept(138)).toBe('replayed');
    // 75 is inside the window and was never seen; 74 is the window's edge.
    expect(w.accept(75)).toBe('ok');
    expect(w.accept(75)).toBe('replayed');
    expect(w.accept(74)).toBe('tooOld');
  });

  it('a jump larger than the window clears it', () => {
    const w = new CounterWindow(32);
    for (let n = 1; n <= 32; n++) expect(w.accept(n)).toBe('ok');
    expect(w.accept(1000)).toBe('ok');
    for (let n = 969; n < 1000; n++) expect(w.accept(n)).toBe('ok');
    expect(w.accept(968)).toBe('tooOld');
  });

  it('handles counters beyond 2^32', () => {
    const w = new CounterWindow(64);
    const big = 2 ** 40;
    expect(w.accept(big)).toBe('ok');
    expect(w.accept(big - 1)).toBe('ok');
    expect(w.accept(big)).toBe('replayed');
  });

  it('refuses sizes that are not multiples of 32', () => {
    expect(() => new CounterWindow(48)).toThrow(RangeError);
  });
});

describe('ReplayGuard', () => {
  it('keeps one window per sender and incarnation', () => {
    const g = new ReplayGuard({ window: 64, incarnations: 8, senders: 8 });
    expect(g.accept('a', 'i1', 100, 1)).toBe('ok');
    expect(g.accept('a', 'i2', 200, 1)).toBe('ok');
    expect(g.accept('b', 'i1', 100, 1)).toBe('ok');
    expect(g.accept('a', 'i1', 100, 1)).toBe('replayed');
    expect(g.size).toBe(3);
  });

  it('tracks a bounded number of incarnations, and a forgotten one stays closed to replays', () => {
    const g = new ReplayGuard({ window: 64, incarnations: 2, senders: 8 });
    expect(g.accept('a', 'old', 100, 1)).toBe('ok');
    expect(g.accept('b', 'x', 100, 1)).toBe('ok');
    expect(g.accept('b', 'x', 100, 2)).toBe('ok');
    // A third incarnation evicts a's (least recently heard).
    expect(g.accept('c', 'y', 100, 1)).toBe('ok');
    expect(g.size).toBe(2);
    // A replay of a's forgotten incarnation would look new: its start time gives it away.
    expect(g.accept('a', 'old', 100, 1)).toBe('staleIncarnation');
    expect(g.accept('a', 'older', 50, 1)).toBe('staleIncarnation');
    // a's next process started later: welcome.
    expect(g.accept('a', 'new', 101, 1)).toBe('ok');
  });

  it('bounds the remembered senders too, falling back to one floor for all', () => {
    const g = new ReplayGuard({ window: 32, incarnations: 1, senders: 1 });
    expect(g.accept('a', 'i', 100, 1)).toBe('ok');
    expect(g.accept('b', 'i', 200, 1)).toBe('ok'); // forgets a@100
    expect(g.accept('c', 'i', 300, 1)).toBe('ok'); // forgets b@200; a's floor folds into the global one
    expect(g.accept('a', 'j', 100, 1)).toBe('staleIncarnation');
    expect(g.accept('b', 'i', 200, 1)).toBe('staleIncarnation');
    expect(g.accept('d', 'i', 150, 1)).toBe('ok');
  });
});
