/**
 * Who a member is and which group it belongs to (design §7): one live process per member id, one
 * group per cluster name, and a joiner adopts the group of the members it finds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isRaftError, RaftBinding } from '../../src/index.js';
import { BindingGroup, FAST_BINDING, set } from '../support/binding-group.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { waitFor } from '../support/wait.js';

let group: BindingGroup | null = null;
const extra: RaftBinding[] = [];

afterEach(async () => {
  for (const b of extra.splice(0)) await b.close({ leave: false });
  await group?.shutdown();
  group = null;
});

/** A binding outside the group's bookkeeping, on a store of its own in memory. */
function outsider(g: BindingGroup, id: string, options: { bootstrap?: boolean } = {}): RaftBinding {
  const b = new RaftBinding({ id, broker: g.broker.url, cluster: g.cluster, ...FAST_BINDING, ...options });
  extra.push(b);
  return b;
}

describe('member and group identity', () => {
  it('a second bootstrap where the cluster name has a live group is refused', async () => {
    group = await BindingGroup.create();
    const g = group;
    const a = await g.open('a', { bootstrap: true });
    const e = outsider(g, 'e', { bootstrap: true });
    const err = await e.open().then(
      () => null,
      (error: unknown) => error,
    );
    expect(isRaftError(err, 'CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(/already has a live group \(a in group [0-9a-f]+\)/);
    expect(a.status().members.map((m) => m.id)).toEqual(['a']);
    await a.proposeInput(set('still', 'one group'));
  }, 30_000);

  it('a joiner finding two groups under one cluster name joins neither; members report the other group', async () => {
    group = await BindingGroup.create();
    const g = group;
    await g.open('a', { bootstrap: true });
    await g.member('a').close({ leave: false });
    // With a down, nothing is live: a second group can be made (two operators, one cluster name).
    const e = outsider(g, 'e', { bootstrap: true });
    await e.open();
    const logger = new RecordingLogger();
    await g.open('a', { logger });
    expect(logger.find('error', /second group/).length).toBeGreaterThan(0);

    const j = outsider(g, 'j');
    const err = await j.open().then(
      () => null,
      (error: unknown) => error,
    );
    expect(isRaftError(err, 'CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(/2 different groups/);
    expect(
      g
        .member('a')
        .status()
        .members.map((m) => m.id),
    ).toEqual(['a']);
    expect(e.status().members.map((m) => m.id)).toEqual(['e']);
  }, 30_000);

  it('a second live process with a member id refuses to open, and the first one reports it', async () => {
    group = await BindingGroup.create();
    const g = group;
    const logger = new RecordingLogger();
    await g.open('a', { bootstrap: true });
    await g.open('b');
    await g.open('c', { logger });
    const twin = outsider(g, 'c');
    const err = await twin.open().then(
      () => null,
      (error: unknown) => error,
    );
    expect(isRaftError(err, 'CONFLICT')).toBe(true);
    expect((err as Error).message).toMatch(/member id c is already in use/);
    await waitFor(() => logger.find('error', /member id c/).length > 0, 5000, 'c to log the twin');
    await g.member('c').proposeInput(set('c', 'still works'));
    await g.converge({ c: 'still works' });
  }, 30_000);
});
