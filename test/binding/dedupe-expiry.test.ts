import { describe, expect, it } from 'vitest';
import { encodeProposal } from '../../src/binding/proposal.js';
import { RaftFsm } from '../../src/binding/raft-fsm.js';
import type { Entry } from '../../src/core/types.js';
import { setInput } from '../support/fsm-helpers.js';

const text = (data: Uint8Array | undefined) =>
  data === undefined ? undefined : new TextDecoder().decode(data);

describe('the dedupe table never acknowledges what it skipped', () => {
  it('a proposal that arrives after 1,024 later seqs of its session is applied, not taken as a duplicate', () => {
    const fsm = new RaftFsm();
    let index = 0;
    const entry = (seq: number, key: string): Entry => ({
      index: ++index,
      term: 1,
      type: 'command',
      data: encodeProposal({ member: 's', seq, input: setInput(key, `v${seq}`) }),
    });
    for (let seq = 2; seq <= 1026; seq++) fsm.apply(entry(seq, `k${seq}`));
    const late = fsm.apply(entry(1, 'late'));
    // The old table raised its floor past seq 1 and answered "duplicate": acknowledged, never applied.
    expect({ result: late, value: text(fsm.get('late')) }).toEqual({
      result: { outcome: 'applied' },
      value: 'v1',
    });
  });
});
