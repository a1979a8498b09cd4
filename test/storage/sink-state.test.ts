import { describe, expect, it } from 'vitest';
import { RaftError } from '../../src/errors.js';
import { SinkState } from '../../src/storage/sink-state.js';

/** The code and message `assertWritable` throws with, or null when it does not throw. */
function refusal(state: SinkState): string | null {
  try {
    state.assertWritable();
    return null;
  } catch (err) {
    if (!(err instanceof RaftError)) throw err;
    return `${err.code}: ${err.message}`;
  }
}

describe('SinkState: the lifecycle of a snapshot sink', () => {
  it('takes writes only while open, and names the sink and its state when it refuses', () => {
    const state = new SinkState('s1');
    expect(refusal(state)).toBeNull();
    state.beginClose();
    expect(refusal(state)).toBe('INVALID_INPUT: snapshot sink s1 is closing');
    expect(() => state.beginClose()).toThrow(/is closing/);
    state.endClose(true);
    expect(refusal(state)).toBe('INVALID_INPUT: snapshot sink s1 is closed');
  });

  it('cancels an open sink or one whose close failed, and nothing complete, completing or cancelled', () => {
    const open = new SinkState('a');
    expect(open.cancel()).toBe(true);
    expect(refusal(open)).toMatch(/is cancelled$/);
    expect(open.cancel()).toBe(false);

    const failed = new SinkState('b');
    failed.beginClose();
    failed.endClose(false);
    expect(refusal(failed)).toMatch(/is failed$/);
    expect(failed.cancel()).toBe(true);
    expect(failed.cancel()).toBe(false);

    const closing = new SinkState('c');
    closing.beginClose();
    expect(closing.cancel()).toBe(false);
    closing.endClose(true);
    expect(closing.cancel()).toBe(false);
    expect(refusal(closing)).toMatch(/is closed$/);
  });
});
