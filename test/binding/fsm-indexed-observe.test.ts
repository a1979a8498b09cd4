import { describe, expect, it } from 'vitest';
import type { Input } from '../../src/binding/input.js';
import { encodeProposal } from '../../src/binding/proposal.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import type { AppliedChange } from '../../src/binding/state-observation.js';
import type { Entry } from '../../src/core/types.js';
import { bytes, deleteInput as del, setInput as set, snapshotChunks } from '../support/fsm-helpers.js';

let seq = 0;
/** A command entry at `index` holding `input` (a fresh proposal each time). */
function entry(index: number, input: Input): Entry {
  seq += 1;
  return { index, term: 1, type: 'command', data: encodeProposal({ member: 'm', seq, input }) };
}

async function drain(it: AsyncIterable<AppliedChange>): Promise<AppliedChange[]> {
  const items: AppliedChange[] = [];
  for await (const change of it) items.push(change);
  return items;
}

async function* stream(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

describe('RaftFsm indexed observers', () => {
  it('give the replay the index it reflects and every live change the index of its entry', async () => {
    const fsm = new RaftFsm();
    fsm.apply(entry(3, set('b', '1')));
    fsm.apply(entry(5, set('a', '2')));
    const observation = fsm.observeIndexed();
    expect(observation.index).toBe(5);
    expect(observation.replayed).toBe(2);
    // Index 7 deletes a missing key: applied, but no change to observe.
    fsm.apply(entry(7, del('zz')));
    fsm.apply(entry(9, del('b')));
    fsm.closeObservers();
    expect(await drain(observation.changes)).toEqual([
      { index: 5, input: set('a', '2') },
      { index: 5, input: set('b', '1') },
      { index: 9, input: del('b') },
    ]);
    expect(fsm.capture()).toEqual({ index: 9, state: new Map([['a', bytes('2')]]), settings: new Map() });
  });

  it('resume from an index without a replay while the state has not changed since; refuse once it has', async () => {
    const fsm = new RaftFsm();
    fsm.apply(entry(4, set('k', 'v')));
    // A no-op delete moves the applied index but changes nothing: resuming from 4 loses nothing.
    fsm.apply(entry(6, del('missing')));
    const resumed = fsm.observeIndexed({ fromIndex: 4 });
    expect(resumed.replayed).toBe(0);
    // A resume from beyond this member's index skips changes up to it.
    const ahead = fsm.observeIndexed({ fromIndex: 8 });
    expect([resumed.index, ahead.index]).toEqual([6, 8]);
    fsm.apply(entry(7, set('k', 'w')));
    fsm.apply(entry(8, set('k', 'y')));
    fsm.apply(entry(9, set('k', 'x')));
    expect(() => fsm.observeIndexed({ fromIndex: 8 })).toThrowError(
      expect.objectContaining({
        code: 'UNSUPPORTED',
        message: expect.stringMatching(/last changed at index 9/),
      }),
    );
    fsm.closeObservers();
    expect(await drain(resumed.changes)).toEqual([
      { index: 7, input: set('k', 'w') },
      { index: 8, input: set('k', 'y') },
      { index: 9, input: set('k', 'x') },
    ]);
    // The change at 8 itself was seen by whoever resumes from 8.
    expect(await drain(ahead.changes)).toEqual([{ index: 9, input: set('k', 'x') }]);
  });

  it('a restore given the snapshot index moves the applied index there and tags its difference with it', async () => {
    const source = new RaftFsm();
    source.apply(entry(40, set('n', 'new')));
    const chunks = await snapshotChunks(source);
    const fsm = new RaftFsm();
    fsm.apply(entry(2, set('o', 'old')));
    const observation = fsm.observeIndexed();
    await fsm.restore(stream(chunks), { index: 42 });
    expect(fsm.appliedIndex).toBe(42);
    expect(() => fsm.observeIndexed({ fromIndex: 41 })).toThrowError(/last changed at index 42/);
    fsm.closeObservers();
    expect(await drain(observation.changes)).toEqual([
      { index: 2, input: set('o', 'old') },
      { index: 42, input: set('n', 'new') },
      { index: 42, input: del('o') },
    ]);
  });
});
