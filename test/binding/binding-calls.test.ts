import { afterEach, describe, expect, it } from 'vitest';
import { type Input, isRaftError, type MembershipChange, type RaftBinding } from '../../src/index.js';
import { BindingGroup, set } from '../support/binding-group.js';
import { waitFor } from '../support/wait.js';

let group: BindingGroup | null = null;

afterEach(async () => {
  await group?.shutdown();
  group = null;
});

/** The error code `call` rejects with, or 'resolved'. */
async function codeOf(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'resolved';
  } catch (err) {
    return isRaftError(err) ? err.code : String(err);
  }
}

describe('RaftBinding call options', () => {
  it('refuses a timeout that is not a finite non-negative number, and an unknown consistency', async () => {
    group = await BindingGroup.create();
    const a: RaftBinding = await group.open('a', { bootstrap: true });
    const input: Input = set('k', 'v');
    const before = a.status().commitIndex;
    for (const timeoutMs of [Number.NaN, -1, Number.POSITIVE_INFINITY, '100' as unknown as number])
      expect(await codeOf(() => a.proposeInput(input, { timeoutMs }))).toBe('INVALID_INPUT');
    const consistency = 'strong' as unknown as 'local';
    expect(await codeOf(() => a.getState({ consistency }))).toBe('INVALID_INPUT');
    expect(await codeOf(() => a.get('k', { consistency }))).toBe('INVALID_INPUT');
    // Nothing was proposed by the refused calls: the next proposal takes the next index.
    expect((await a.proposeInput(input)).index).toBe(before + 1);
  }, 30_000);

  it('every pending read of a membership observer is answered', async () => {
    group = await BindingGroup.create();
    const a = await group.open('a', { bootstrap: true });
    const changes = a.observeMembershipChange()[Symbol.asyncIterator]();
    expect(await changes.next()).toEqual({ value: { id: 'a', joined: true }, done: false });
    const settled: Array<IteratorResult<MembershipChange>> = [];
    const first = changes.next().then((r) => settled.push(r));
    const second = changes.next().then((r) => settled.push(r));
    await group.open('b');
    await group.open('c');
    await waitFor(() => settled.length === 2, 10_000, 'both pending reads to be answered');
    await Promise.all([first, second]);
    expect(settled).toEqual([
      { value: { id: 'b', joined: true }, done: false },
      { value: { id: 'c', joined: true }, done: false },
    ]);
  }, 30_000);
});
