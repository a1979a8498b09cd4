import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore, type RaftBinding } from '../../src/index.js';
import { set } from '../support/binding-group.js';
import { InmemBindings, reopenable, roles } from '../support/inmem-bindings.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { waitFor } from '../support/wait.js';

let group: InmemBindings;

afterEach(async () => {
  await group.closeAll();
});

/** Waits until `binding` lists exactly `expected` (id and role, in id order). */
async function waitForRoles(binding: RaftBinding, expected: string[][], what: string): Promise<void> {
  try {
    await waitFor(() => JSON.stringify(roles(binding)) === JSON.stringify(expected), 10_000, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}; roles: ${JSON.stringify(roles(binding))}`);
  }
}

describe('a group with a voter budget', () => {
  it('fills the budget, replaces a lost voter, never promotes an observer, and follows a raised budget', async () => {
    // voterLossTimeout at its floor (electionTimeout is 400 ms here) keeps the test short.
    const logger = new RecordingLogger();
    group = new InmemBindings(41, { voters: 3, voterLossTimeout: 400, logger });
    const a = await group.open('a');
    expect(a.voterBudget()).toBe(3);
    await group.open('b');
    await waitForRoles(
      a,
      [
        ['a', 'voter'],
        ['b', 'voter'],
      ],
      'b to be promoted',
    );
    const cStore = reopenable(new MemoryStore());
    await group.open('c', cStore);
    await waitForRoles(
      a,
      [
        ['a', 'voter'],
        ['b', 'voter'],
        ['c', 'voter'],
      ],
      'c to be promoted',
    );
    // The budget is full: d joins as a non-voter and stays one; an observer (`ao`, which sorts
    // before the other candidates) is never eligible.
    await group.open('d');
    await group.open('ao', new MemoryStore(), { role: 'observer' });
    expect(roles(a)).toEqual([
      ['a', 'voter'],
      ['ao', 'nonvoter'],
      ['b', 'voter'],
      ['c', 'voter'],
      ['d', 'nonvoter'],
    ]);

    // c is lost: d takes its vote, and c is demoted once d votes.
    await group.kill('c');
    await waitForRoles(
      a,
      [
        ['a', 'voter'],
        ['ao', 'nonvoter'],
        ['b', 'voter'],
        ['c', 'nonvoter'],
        ['d', 'voter'],
      ],
      'd to replace c',
    );
    await (await group.leader()).proposeInput(set('after', 'replacement'));

    // c comes back as a non-voter; a budget of 4, set from a follower, promotes it and not the observer.
    await group.open('c', cStore);
    await group.member('b').setVoterBudget(4);
    await waitForRoles(
      a,
      [
        ['a', 'voter'],
        ['ao', 'nonvoter'],
        ['b', 'voter'],
        ['c', 'voter'],
        ['d', 'voter'],
      ],
      'c to be promoted under the raised budget',
    );
    expect(group.member('ao').voterBudget()).toBe(4);
    // Each change the leader made is said once, with the member, its index and why.
    const said = logger.find('info', /^voter budget: /);
    expect(said.map((l) => l.message.replace(/lost for \d+ ms/, 'lost for N ms'))).toEqual([
      'voter budget: promoted b (1 of 3 voters)',
      'voter budget: promoted c (2 of 3 voters)',
      'voter budget: promoted d (to replace lost voter c)',
      'voter budget: demoted c (lost for N ms, replaced)',
      'voter budget: promoted c (3 of 4 voters)',
    ]);
    for (const line of said) {
      expect(['a', 'b', 'c', 'd']).toContain(line.details.localId);
      expect(line.details.index).toBeGreaterThan(0);
    }
    expect(logger.find('warn', /^voter budget: could not/)).toEqual([]);
  });

  it('lets a member without the option follow the budget the group holds', async () => {
    group = new InmemBindings(42);
    await group.open('a', new MemoryStore(), { voters: 1 });
    const b = await group.open('b', new MemoryStore(), { voters: 1 });
    // Joined as a non-voter; the budget of one is full, so it stays one.
    expect(roles(b)).toEqual([
      ['a', 'voter'],
      ['b', 'nonvoter'],
    ]);
    expect(b.voterBudget()).toBe(1);
    // Without the option, a member follows the budget the group holds: it joins as a non-voter
    // and, the budget being full, stays one; it may be promoted later, so it registers.
    const cStore = reopenable(new MemoryStore());
    const c = await group.open('c', cStore);
    const full = [
      ['a', 'voter'],
      ['b', 'nonvoter'],
      ['c', 'nonvoter'],
    ];
    expect(roles(c)).toEqual(full);
    expect(c.voterBudget()).toBe(1);
    // Restarted, it learns the budget from its own log again before deciding: it stays a non-voter.
    await group.kill('c');
    const again = await group.open('c', cStore);
    expect(roles(again)).toEqual(full);
    expect(roles(await group.leader())).toEqual(full);
  });
});
