import { describe, expect, it } from 'vitest';
import { Progress } from '../../src/core/progress.js';

/** A progress in replicate with `match`, as after a successful probe. */
function replicating(match: number, maxInflight = 3): Progress {
  const pr = new Progress(match + 1, maxInflight);
  pr.maybeUpdate(match);
  pr.becomeReplicate();
  return pr;
}

describe('Progress in probe', () => {
  it('starts in probe, unpaused, with nothing matched', () => {
    const pr = new Progress(5, 4);
    expect(pr.state).toBe('probe');
    expect(pr.match).toBe(0);
    expect(pr.next).toBe(5);
    expect(pr.isPaused()).toBe(false);
  });

  it('pauses after one message and unpauses when the follower answers', () => {
    const pr = new Progress(5, 4);
    pr.sentEntries(1, 5);
    expect(pr.isPaused()).toBe(true);
    // Probing does not advance next optimistically.
    expect(pr.next).toBe(5);
    expect(pr.maybeUpdate(5)).toBe(true);
    expect(pr.match).toBe(5);
    expect(pr.next).toBe(6);
    expect(pr.isPaused()).toBe(false);
  });

  it('pauses even after an empty probe', () => {
    const pr = new Progress(5, 4);
    pr.sentEntries(0, 4);
    expect(pr.isPaused()).toBe(true);
  });

  it('unpauses on a fresh rejection', () => {
    const pr = new Progress(5, 4);
    pr.sentEntries(1, 5);
    expect(pr.maybeDecrease(4, 3)).toBe(true);
    expect(pr.isPaused()).toBe(false);
    expect(pr.next).toBe(3);
  });
});

describe('Progress.maybeUpdate', () => {
  it('ignores an acknowledgement below match but never moves next backwards', () => {
    const pr = new Progress(10, 4);
    expect(pr.maybeUpdate(7)).toBe(true);
    expect(pr.match).toBe(7);
    expect(pr.next).toBe(10);
    expect(pr.maybeUpdate(6)).toBe(false);
    expect(pr.match).toBe(7);
    expect(pr.next).toBe(10);
    expect(pr.maybeUpdate(7)).toBe(false);
  });

  it('moves next past an acknowledgement beyond it', () => {
    const pr = new Progress(3, 4);
    pr.maybeUpdate(8);
    expect(pr.next).toBe(9);
  });
});

describe('Progress in replicate (flow control)', () => {
  it('becomeReplicate resumes right after match with an empty window', () => {
    const pr = replicating(4);
    expect(pr.state).toBe('replicate');
    expect(pr.next).toBe(5);
    expect(pr.inflightCount()).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });

  it('sends optimistically until maxInflight messages are unacknowledged', () => {
    const pr = replicating(0, 3);
    pr.sentEntries(2, 2);
    expect(pr.next).toBe(3);
    pr.sentEntries(2, 4);
    expect(pr.isPaused()).toBe(false);
    pr.sentEntries(1, 5);
    expect(pr.next).toBe(6);
    expect(pr.inflightCount()).toBe(3);
    expect(pr.isPaused()).toBe(true);
  });

  it('does not count empty messages against the window', () => {
    const pr = replicating(0, 1);
    pr.sentEntries(0, 0);
    pr.sentEntries(0, 0);
    expect(pr.inflightCount()).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });

  it('frees every in-flight message an acknowledgement covers', () => {
    const pr = replicating(0, 3);
    pr.sentEntries(2, 2);
    pr.sentEntries(2, 4);
    pr.sentEntries(1, 5);
    expect(pr.isPaused()).toBe(true);
    pr.maybeUpdate(2);
    expect(pr.inflightCount()).toBe(2);
    expect(pr.isPaused()).toBe(false);
    // An acknowledgement in the middle of a message frees only the messages it fully covers.
    pr.maybeUpdate(3);
    expect(pr.inflightCount()).toBe(2);
    pr.maybeUpdate(5);
    expect(pr.inflightCount()).toBe(0);
    expect(pr.match).toBe(5);
  });

  it('freeFirst frees the oldest slot', () => {
    const pr = replicating(0, 2);
    pr.sentEntries(1, 1);
    pr.sentEntries(1, 2);
    expect(pr.isPaused()).toBe(true);
    pr.freeFirst();
    expect(pr.inflightCount()).toBe(1);
    expect(pr.isPaused()).toBe(false);
    // The remaining slot is the newer message: acknowledging index 1 frees nothing more.
    pr.maybeUpdate(1);
    expect(pr.inflightCount()).toBe(1);
    pr.maybeUpdate(2);
    expect(pr.inflightCount()).toBe(0);
  });
});

describe('Progress.maybeDecrease', () => {
  it('in probe, ignores a rejection that does not answer the probe in flight', () => {
    const pr = new Progress(10, 4);
    pr.sentEntries(1, 10);
    expect(pr.maybeDecrease(5, 3)).toBe(false);
    expect(pr.next).toBe(10);
    expect(pr.isPaused()).toBe(true);
  });

  it('in probe, moves next to the hint for the rejection of the probe in flight', () => {
    const pr = new Progress(10, 4);
    pr.sentEntries(1, 10);
    expect(pr.maybeDecrease(9, 4)).toBe(true);
    expect(pr.next).toBe(4);
    expect(pr.state).toBe('probe');
  });

  it('in probe, never moves next to or below match', () => {
    const pr = new Progress(10, 4);
    pr.maybeUpdate(5);
    expect(pr.next).toBe(10);
    expect(pr.maybeDecrease(9, 2)).toBe(true);
    expect(pr.next).toBe(6);
  });

  it('in probe, never moves next above the rejected index', () => {
    const pr = new Progress(10, 4);
    expect(pr.maybeDecrease(9, 50)).toBe(true);
    expect(pr.next).toBe(9);
  });

  it('in replicate, ignores a stale rejection at or below match', () => {
    const pr = replicating(5);
    pr.sentEntries(3, 8);
    expect(pr.maybeDecrease(5, 2)).toBe(false);
    expect(pr.maybeDecrease(3, 2)).toBe(false);
    expect(pr.state).toBe('replicate');
    expect(pr.next).toBe(9);
    expect(pr.inflightCount()).toBe(1);
  });

  it('in replicate, falls back to probe right after match on a fresh rejection', () => {
    const pr = replicating(5);
    pr.sentEntries(3, 8);
    pr.sentEntries(2, 10);
    expect(pr.maybeDecrease(8, 2)).toBe(true);
    expect(pr.state).toBe('probe');
    expect(pr.next).toBe(6);
    expect(pr.inflightCount()).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });
});

describe('Progress in snapshot', () => {
  it('is paused whatever happens to the window', () => {
    const pr = replicating(3);
    pr.becomeSnapshot(20);
    expect(pr.state).toBe('snapshot');
    expect(pr.pendingSnapshot).toBe(20);
    expect(pr.isPaused()).toBe(true);
    pr.sentEntries(1, 21);
    expect(pr.isPaused()).toBe(true);
    expect(pr.inflightCount()).toBe(0);
  });

  it('becomeProbe after a snapshot resumes right behind the snapshot', () => {
    const pr = replicating(3);
    pr.becomeSnapshot(20);
    pr.becomeProbe();
    expect(pr.state).toBe('probe');
    expect(pr.next).toBe(21);
    expect(pr.pendingSnapshot).toBe(0);
    expect(pr.isPaused()).toBe(false);
  });

  it('becomeProbe after a snapshot resumes behind match when match is further', () => {
    const pr = replicating(3);
    pr.becomeSnapshot(20);
    pr.maybeUpdate(25);
    pr.becomeProbe();
    expect(pr.next).toBe(26);
  });

  it('becomeProbe outside snapshot resumes right behind match', () => {
    const pr = replicating(7);
    pr.sentEntries(5, 12);
    pr.becomeProbe();
    expect(pr.next).toBe(8);
    expect(pr.inflightCount()).toBe(0);
  });
});
