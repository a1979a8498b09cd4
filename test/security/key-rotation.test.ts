import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BindingGroup, set } from '../support/binding-group.js';
import { dropCounted, drops } from './attacker.js';

/**
 * A key rotation (docs/security.md): every member first opens with both keys while sealing with
 * the old one, then seals with the new one, then forgets the old one. Members at neighbouring
 * steps understand each other, so the group commits throughout.
 */
describe('group key rotation', () => {
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('hex');
  let group: BindingGroup | null = null;

  afterEach(async () => {
    await group?.shutdown();
    group = null;
  });

  it('members sealing with the new key and members still sealing with the old one commit together', async () => {
    const g = await BindingGroup.create('aedes');
    group = g;
    const both = { groupKey: oldKey, previousGroupKeys: [newKey] };
    await g.open('a', { ...both, bootstrap: true });
    await g.open('b', both);
    await g.open('c', both);
    // Step 2 on a and b only: they seal with the new key; c still seals with the old one.
    for (const id of ['a', 'b']) {
      await g.member(id).close({ leave: false });
      g.members.delete(id);
      await g.open(id, { groupKey: newKey, previousGroupKeys: [oldKey] });
    }
    for (const id of ['a', 'b', 'c']) await g.member(id).proposeInput(set(`via-${id}`, id));
    await g.converge({ 'via-a': 'a', 'via-b': 'b', 'via-c': 'c' });
    for (const m of g.members.values()) expect(drops(m, 'badSeal')).toBe(0);
  });

  it('a member holding only a retired key is not heard', async () => {
    const g = await BindingGroup.create('aedes', { groupKey: newKey });
    group = g;
    await g.open('a', { bootstrap: true });
    await g.open('b');
    const a = g.member('a');
    const counted = drops(a, 'badSeal');
    const opening = g.open('c', { groupKey: oldKey, startupTimeout: 1500 });
    await expect(opening).rejects.toMatchObject({ name: 'RaftError' });
    await dropCounted(a, 'badSeal', counted);
    expect(
      a
        .status()
        .members.map((s) => s.id)
        .sort(),
    ).toEqual(['a', 'b']);
  });
});
