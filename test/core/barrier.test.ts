/**
 * Barrier entries (hashicorp/raft's Barrier): an entry that applies nothing, whose application
 * proves that every earlier entry has been applied.
 */
import { describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';
import { drain, newCore } from './helpers.js';
import { acceptedIndex, text } from './scenario-helpers.js';

describe('barrier entries', () => {
  it('a leader accepts a barrier, replicates it and every server applies it after all earlier entries', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const a = c.core('a');
    // The earlier commands are still being replicated when the barrier is proposed.
    a.propose(text('x'));
    a.propose(text('y'));
    const barrier = a.propose(new Uint8Array(), 'barrier');
    expect(barrier).toEqual({ accepted: true, index: 4, term: 1 });
    c.stabilize();
    acceptedIndex(c.propose('a', 'z'));
    for (const id of ['a', 'b', 'c']) {
      const applied = c.node(id).applied;
      expect(applied.map((e) => `${e.index}:${e.type}`)).toEqual([
        '1:noop',
        '2:command',
        '3:command',
        '4:barrier',
        '5:command',
      ]);
      const entry = applied[3];
      expect(entry).toMatchObject({ index: 4, term: 1, type: 'barrier' });
      expect(entry?.data.byteLength).toBe(0);
      expect(c.node(id).storage.entry(4)?.type).toBe('barrier');
    }
  });

  it('the barrier is applied in the same Ready as, and after, the entries before it', () => {
    const a = newCore('a', ['a']);
    a.campaign();
    drain(a);
    expect(drain(a).committedEntries.map((e) => e.type)).toEqual(['noop']);
    a.propose(text('x'));
    a.propose(text('y'));
    const index = acceptedIndex(a.propose(new Uint8Array(), 'barrier'));
    expect(index).toBe(4);
    // The Ready that persists the entries cannot apply them yet; the next one applies all three.
    const persist = drain(a);
    expect(persist.entries.map((e) => e.type)).toEqual(['command', 'command', 'barrier']);
    expect(persist.committedEntries).toEqual([]);
    const apply = drain(a);
    expect(apply.committedEntries.map((e) => `${e.index}:${e.type}`)).toEqual([
      '2:command',
      '3:command',
      '4:barrier',
    ]);
    expect(a.status().appliedIndex).toBe(index);
  });

  it('a follower refuses a barrier and names the leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    expect(c.core('b').propose(new Uint8Array(), 'barrier')).toMatchObject({
      accepted: false,
      code: 'NOT_LEADER',
      leader: 'a',
    });
    expect(newCore('a', ['a', 'b']).propose(new Uint8Array(), 'barrier')).toMatchObject({
      accepted: false,
      code: 'NOT_LEADER',
      leader: null,
    });
  });
});
