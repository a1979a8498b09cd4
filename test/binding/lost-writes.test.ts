import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError } from '../../src/index.js';
import { BindingGroup, FAST_BINDING, set, textState } from '../support/binding-group.js';
import { killChildren, spawnCli } from '../support/cli-process.js';
import { BROKER_KINDS } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

let group: BindingGroup | null = null;
const children: ChildProcess[] = [];

afterEach(async () => {
  killChildren(children);
  await group?.shutdown();
  group = null;
});

/** The texts of `keys` in `member`'s state, read linearizably. */
async function valuesOf(g: BindingGroup, id: string, keys: string[]): Promise<Array<string | undefined>> {
  const state = new Map(textState(await g.member(id).getState({ consistency: 'linearizable' })));
  return keys.map((k) => state.get(k));
}

describe.each(BROKER_KINDS)('acknowledged writes are applied (%s)', (kind) => {
  it('a follower restarted on its store gets no answers meant for its previous process', async () => {
    group = await BindingGroup.create(kind);
    const g = group;
    await g.open('a', { bootstrap: true });
    await g.open('b');
    await g.open('c');
    await g.leader();
    for (let i = 1; i <= 3; i++) await g.member('b').proposeInput(set(`k${i}`, `old${i}`));
    await g.member('b').close({ leave: false });
    await g.open('b');
    const keys = ['n1', 'n2', 'n3', 'n4'];
    for (const k of keys) await g.member('b').proposeInput(set(k, `new-${k}`));
    // Every write b was told succeeded is in the state, on the leader and on b.
    expect(await valuesOf(g, 'a', keys)).toEqual(keys.map((k) => `new-${k}`));
    expect(await valuesOf(g, 'b', keys)).toEqual(keys.map((k) => `new-${k}`));
  }, 30_000);

  it('a proposal through a follower follows the leader when the leader is killed', async () => {
    group = await BindingGroup.create(kind);
    const g = group;
    // The leader runs in its own process, so that it can be killed for real.
    const leader = spawnCli(children, 'test/support/binding-child.ts', [
      JSON.stringify({
        id: 'a',
        broker: g.broker.url,
        cluster: g.cluster,
        bootstrap: true,
        ...FAST_BINDING,
      }),
    ]);
    await waitFor(() => leader.stdout.includes('ready'), 15_000, 'a to open');
    await g.open('b');
    await g.open('c');
    await g.member('b').proposeInput(set('before', 'kill'));
    leader.child.kill('SIGKILL');
    // Issued at once, while b still takes a for the leader: it must reach the next leader.
    const result = await g
      .member('b')
      .proposeInput(set('during', 'failover'), { timeoutMs: 15_000 })
      .catch((err: unknown) => err);
    expect(isRaftError(result) ? `${result.code}: ${result.message}` : result).toEqual({
      index: expect.any(Number),
    });
    await waitFor(
      async () => (await valuesOf(g, 'c', ['during']))[0] === 'failover',
      10_000,
      'c to apply the write',
    );
  }, 60_000);
});
