import { afterEach, describe, expect, it } from 'vitest';
import type { Input, MembershipChange } from '../../src/index.js';
import { BindingGroup, collect, set, textState } from '../support/binding-group.js';
import { BROKER_KINDS } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const decoder = new TextDecoder();
let group: BindingGroup | null = null;

afterEach(async () => {
  await group?.shutdown();
  group = null;
});

function describeInput(i: Input): string {
  return i.op === 'set' ? `set ${i.key}=${decoder.decode(i.value)}` : `delete ${i.key}`;
}

describe.each(BROKER_KINDS)('RaftBinding end to end (the DDA scenario) (%s)', (kind) => {
  it('bootstraps, observes, proposes anywhere, takes two joins, survives the leader leaving, and keeps order across snapshots', async () => {
    group = await BindingGroup.create(kind);
    const g = group;
    const a = await g.open('a', { bootstrap: true, snapshotThreshold: 50, trailingLogs: 5 });
    const stateOnA = collect(a.observeStateChange());
    const membersOnA = collect(a.observeMembershipChange());
    await a.proposeInput(set('k0', 'v0'));

    // Two joins.
    const b = await g.open('b', { snapshotThreshold: 50, trailingLogs: 5 });
    const c = await g.open('c', { snapshotThreshold: 50, trailingLogs: 5 });
    await waitFor(() => membersOnA.items.length >= 3, 5000, 'a sees both joins');
    expect(membersOnA.items.slice(0, 3)).toEqual<MembershipChange[]>([
      { id: 'a', joined: true },
      { id: 'b', joined: true },
      { id: 'c', joined: true },
    ]);

    // Proposals from the leader and from followers.
    await b.proposeInput(set('k1', 'from-b'));
    await c.proposeInput({ op: 'delete', key: 'k0' });
    const { index } = await a.proposeInput(set('k2', 'from-a'));
    await g.converge({ k1: 'from-b', k2: 'from-a' });
    // The node's counters: every member persisted the log up to that proposal.
    for (const member of [a, b, c]) {
      const stats = member.raftStats();
      expect(stats.lastLogIndex).toBeGreaterThanOrEqual(index);
      expect(stats.entriesPersisted).toBeGreaterThan(0);
      expect(stats.batchesPersisted).toBeGreaterThan(0);
    }

    // A synthetic replay: a late observer first gets the state, sorted, then live changes.
    const late = collect(c.observeStateChange());
    await waitFor(() => late.items.length >= 2, 2000, 'the replay');
    expect(late.items.map(describeInput)).toEqual(['set k1=from-b', 'set k2=from-a']);

    // Every member observes membership; the leader leaves, the others elect a new one and go on.
    const membersOnB = collect(b.observeMembershipChange());
    const membersOnC = collect(c.observeMembershipChange());
    const leader = await g.leader();
    await leader.close();
    g.members.delete(leader.id);
    const rest = [...g.members.values()];
    const watcher = rest[0];
    if (watcher === undefined) throw new Error('no member left');
    const next = await g.leader();
    expect(next.id).not.toBe(leader.id);
    // The departure is committed (close() removed the leader) and observed on every survivor.
    const survivorFeeds = new Map([
      ['a', membersOnA],
      ['b', membersOnB],
      ['c', membersOnC],
    ]);
    survivorFeeds.delete(leader.id);
    await waitFor(
      () =>
        [...survivorFeeds.values()].every((feed) => feed.items.some((m) => m.id === leader.id && !m.joined)),
      5000,
      'the departure observed on every survivor',
    );
    for (const member of rest) {
      expect(member.status().members.map((m) => m.id)).not.toContain(leader.id);
    }
    for (const feed of survivorFeeds.values()) {
      expect(feed.items.filter((m) => m.id === leader.id && !m.joined)).toHaveLength(1);
    }

    // 200 proposals across snapshot thresholds, from alternating members, in order on an observer.
    const observer = collect(watcher.observeStateChange());
    const snapshotBefore = watcher.raftStats().lastSnapshotIndex;
    const firstOfSequence = watcher.raftStats().lastLogIndex + 1;
    for (let i = 0; i < 200; i++) {
      const member = rest[i % rest.length];
      await member?.proposeInput(set('seq', String(i)));
    }
    await waitFor(
      () => observer.items.filter((x) => x.op === 'set' && x.key === 'seq').length >= 200,
      10_000,
      '200 changes observed',
    );
    const seen = observer.items.filter((x): x is Input & { op: 'set' } => x.op === 'set' && x.key === 'seq');
    expect(seen.map((x) => Number(decoder.decode(x.value)))).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(textState(await watcher.getState({ consistency: 'linearizable' }))).toContainEqual(['seq', '199']);
    // The sequence really crossed snapshots: the watcher compacted its log inside the sequence.
    const snapshotAfter = watcher.raftStats().lastSnapshotIndex;
    expect(snapshotAfter).toBeGreaterThan(snapshotBefore);
    expect(snapshotAfter).toBeGreaterThanOrEqual(firstOfSequence);
    // a's observer, open from the start, saw the first changes in commit order.
    expect(stateOnA.items.slice(0, 4).map(describeInput)).toEqual([
      'set k0=v0',
      'set k1=from-b',
      'delete k0',
      'set k2=from-a',
    ]);
  }, 60_000);
});
