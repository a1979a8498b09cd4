/**
 * Raft paper §7 "Log compaction" and the InstallSnapshot RPC: the application snapshots what it
 * has applied, the core compacts its log (keeping `trailingEntries`), and a follower that needs
 * compacted entries receives the snapshot instead, installs it and continues from there.
 */
import { describe, expect, it } from 'vitest';
import type { Message, SnapshotMeta, SnapshotRequest } from '../../src/core/index.js';
import { appliedCommands, TestCluster } from '../support/cluster.js';
import { deliveredSince, drain, entries, must, newCore, ofType, tickUntil, votersConfig } from './helpers.js';
import { acceptedIndex, membersOf, takeSnapshot, text, watchReadies } from './scenario-helpers.js';

const electionTicks = 10;

/**
 * A three-server cluster led by a in which c missed entries 2..6 (five commands), after which a
 * compacted its log up to 6 (trailingEntries 0), so c can only catch up from a snapshot. c is
 * still cut off when this returns; call `reconnect` to let it hear from a again.
 */
function clusterWithCompactedLeader() {
  const c = new TestCluster(['a', 'b', 'c'], { trailingEntries: 0 });
  expect(c.elect('a')).toBe('a');
  const reconnect = c.isolate('c');
  for (let i = 0; i < 5; i++) c.propose('a', `missed-${i}`);
  expect(c.core('a').status().commitIndex).toBe(6);
  expect(c.core('c').status().lastIndex).toBe(1);
  const { snapshot, compactedTo } = takeSnapshot(c.node('a'), 6);
  expect(compactedTo).toBe(6);
  expect(c.core('a').status().firstIndex).toBe(7);
  return { c, reconnect, snapshot };
}

describe('§7 snapshotTaken: log compaction', () => {
  it('compacts up to index - trailingEntries and records the snapshot', () => {
    const c = new TestCluster(['a', 'b', 'c'], { trailingEntries: 2 });
    expect(c.elect('a')).toBe('a');
    for (let i = 0; i < 5; i++) c.propose('a', `x${i}`);
    const a = c.core('a');
    expect(a.status()).toMatchObject({ firstIndex: 1, lastIndex: 6, appliedIndex: 6, snapshotIndex: 0 });

    const { snapshot, compactedTo } = takeSnapshot(c.node('a'), 5);
    expect(snapshot).toEqual({ index: 5, term: 1, config: votersConfig('a', 'b', 'c'), configIndex: 0 });
    // Two entries stay behind the snapshot for slightly slow followers.
    expect(compactedTo).toBe(3);
    expect(a.status()).toMatchObject({
      snapshotIndex: 5,
      firstIndex: 4,
      lastIndex: 6,
      commitIndex: 6,
      appliedIndex: 6,
    });
    expect(c.node('a').storage.entries.map((e) => e.index)).toEqual([4, 5, 6]);
    // Compaction changes nothing about the replicated state.
    c.propose('a', 'after');
    expect(a.status().commitIndex).toBe(7);
    expect(appliedCommands(c.node('b'))).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'after']);
  });

  it('with trailingEntries 0 the log starts right after the snapshot', () => {
    const c = new TestCluster(['a', 'b', 'c'], { trailingEntries: 0 });
    expect(c.elect('a')).toBe('a');
    for (let i = 0; i < 3; i++) c.propose('a', `x${i}`);
    // Followers snapshot what they have applied, too.
    const { snapshot, compactedTo } = takeSnapshot(c.node('b'), 3);
    expect(snapshot).toMatchObject({ index: 3, term: 1 });
    expect(compactedTo).toBe(3);
    expect(c.core('b').status()).toMatchObject({ snapshotIndex: 3, firstIndex: 4, lastIndex: 4 });
    c.propose('a', 'y');
    expect(c.core('b').status()).toMatchObject({ firstIndex: 4, lastIndex: 5, commitIndex: 5 });
  });

  it('refuses an index above the applied index, even a committed one, and changes nothing', () => {
    const core = newCore('b', ['a', 'b', 'c'], {
      hardState: { term: 1, vote: null, commit: 5 },
      entries: entries(1, [1, 1, 1, 1, 1]),
      options: { maxApplyPerReady: 2, trailingEntries: 0 },
    });
    expect(() => core.snapshotTaken(1)).toThrow();
    expect(drain(core).committedEntries.map((e) => e.index)).toEqual([1, 2]);
    expect(core.status()).toMatchObject({ commitIndex: 5, appliedIndex: 2 });
    expect(() => core.snapshotTaken(3)).toThrow(/applied/);
    expect(() => core.snapshotTaken(6)).toThrow();
    expect(core.status()).toMatchObject({ snapshotIndex: 0, firstIndex: 1, lastIndex: 5 });

    expect(core.snapshotTaken(2).snapshot).toMatchObject({ index: 2, term: 1 });
    expect(core.status()).toMatchObject({ snapshotIndex: 2, firstIndex: 3 });
    // Below the compacted prefix is refused as well.
    expect(() => core.snapshotTaken(1)).toThrow();
  });

  it('throws when called from a leader above its applied index', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const a = c.core('a');
    expect(a.status().appliedIndex).toBe(2);
    expect(() => a.snapshotTaken(3)).toThrow();
    a.propose(text('unapplied'));
    expect(() => a.snapshotTaken(3)).toThrow();
    expect(a.status().snapshotIndex).toBe(0);
  });
});

describe('§7 InstallSnapshot', () => {
  it('a follower behind the compacted prefix receives the snapshot, installs it and catches up', () => {
    const { c, reconnect, snapshot } = clusterWithCompactedLeader();
    const readiesC = watchReadies(c.node('c'));
    const mark = c.delivered.length;
    reconnect();
    c.tick();

    const requests = ofType(deliveredSince(c, mark), 'snapshotRequest');
    expect(requests).toEqual([expect.objectContaining({ from: 'a', to: 'c', term: 1, snapshot })]);
    // The compacted entries were never sent one by one.
    const sentEntries = ofType(deliveredSince(c, mark), 'appendRequest')
      .filter((m) => m.to === 'c')
      .flatMap((m) => m.entries);
    expect(sentEntries).toEqual([]);

    const installs = readiesC.filter((r) => r.snapshot !== null);
    expect(installs).toHaveLength(1);
    const install = must(installs[0]);
    expect(install.snapshot).toEqual(snapshot);
    expect(install.entries).toEqual([]);
    expect(install.committedEntries).toEqual([]);
    expect(install.hardState?.commit).toBe(6);
    // The answer tells the leader c now matches it up to the snapshot.
    expect(ofType(install.messages, 'appendResponse')).toEqual([
      expect.objectContaining({ to: 'a', success: true, index: 6 }),
    ]);

    const cc = c.core('c');
    expect(cc.status()).toMatchObject({
      commitIndex: 6,
      appliedIndex: 6,
      snapshotIndex: 6,
      firstIndex: 7,
      lastIndex: 6,
      lastTerm: 1,
    });
    expect(c.node('c').storage.snapshot).toEqual(snapshot);
    expect(c.node('c').storage.entries).toEqual([]);
    // Nothing from the snapshot's range went through committedEntries.
    expect(c.node('c').applied.map((e) => e.index)).toEqual([1]);

    // Normal replication resumes right after the snapshot.
    const afterMark = c.delivered.length;
    c.propose('a', 'later-1');
    c.propose('a', 'later-2');
    const appends = ofType(deliveredSince(c, afterMark), 'appendRequest').filter(
      (m) => m.to === 'c' && m.entries.length > 0,
    );
    expect(must(appends[0]).prevIndex).toBe(6);
    expect(ofType(deliveredSince(c, afterMark), 'snapshotRequest')).toEqual([]);
    expect(cc.status()).toMatchObject({ firstIndex: 7, lastIndex: 8, commitIndex: 8, appliedIndex: 8 });
    expect(appliedCommands(c.node('c'))).toEqual(['later-1', 'later-2']);
    expect(c.node('c').storage.entries.map((e) => e.index)).toEqual([7, 8]);
  });

  it('a snapshot the follower log already contains does not reset the log; it advances commit', () => {
    const core = newCore('b', ['a', 'b', 'c'], {
      hardState: { term: 1, vote: null, commit: 2 },
      entries: entries(1, [1, 1, 1, 1, 1]),
    });
    const snapshot: SnapshotMeta = { index: 4, term: 1, config: votersConfig('a', 'b', 'c'), configIndex: 0 };
    const request: SnapshotRequest = { type: 'snapshotRequest', from: 'a', to: 'b', term: 1, snapshot };
    core.step(request);
    const ready = drain(core);
    expect(ready.snapshot).toBeNull();
    expect(ready.hardState?.commit).toBe(4);
    expect(ready.committedEntries.map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(ofType(ready.messages, 'appendResponse')).toEqual([
      expect.objectContaining({ to: 'a', success: true, index: 4 }),
    ]);
    expect(core.status()).toMatchObject({
      firstIndex: 1,
      lastIndex: 5,
      commitIndex: 4,
      appliedIndex: 4,
      snapshotIndex: 0,
    });
  });

  it('a snapshot at or below the commit index changes nothing and is answered with the commit index', () => {
    const core = newCore('b', ['a', 'b', 'c'], {
      hardState: { term: 1, vote: null, commit: 4 },
      entries: entries(1, [1, 1, 1, 1, 1]),
    });
    drain(core);
    const snapshot: SnapshotMeta = { index: 3, term: 1, config: votersConfig('a', 'b', 'c'), configIndex: 0 };
    core.step({ type: 'snapshotRequest', from: 'a', to: 'b', term: 1, snapshot });
    const ready = drain(core);
    expect(ready.snapshot).toBeNull();
    expect(ofType(ready.messages, 'appendResponse')).toEqual([
      expect.objectContaining({ success: true, index: 4 }),
    ]);
    expect(core.status()).toMatchObject({ firstIndex: 1, lastIndex: 5, commitIndex: 4 });
  });

  it('a snapshot whose last entry conflicts with the follower log replaces the whole log', () => {
    const core = newCore('b', ['a', 'b', 'c'], {
      hardState: { term: 2, vote: null, commit: 1 },
      entries: entries(1, [1, 1, 1, 1, 1]),
    });
    drain(core);
    const snapshot: SnapshotMeta = { index: 4, term: 2, config: votersConfig('a', 'b', 'c'), configIndex: 0 };
    core.step({ type: 'snapshotRequest', from: 'a', to: 'b', term: 2, snapshot });
    const ready = drain(core);
    expect(ready.snapshot).toEqual(snapshot);
    expect(ready.committedEntries).toEqual([]);
    expect(core.status()).toMatchObject({
      firstIndex: 5,
      lastIndex: 4,
      lastTerm: 2,
      commitIndex: 4,
      appliedIndex: 4,
      snapshotIndex: 4,
    });
  });

  it('a lost snapshot is sent again after about two election timeouts', () => {
    const { c, reconnect, snapshot } = clusterWithCompactedLeader();
    let now = 0;
    const attempts: number[] = [];
    const lose = c.filter((m) => {
      if (m.type !== 'snapshotRequest') return true;
      attempts.push(now);
      return false;
    });
    reconnect();
    for (now = 1; now <= 45; now++) c.tick();
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    const [first, second] = attempts as [number, number];
    expect(first).toBe(1);
    // Not retried in between: the snapshot may simply still be on its way.
    expect(second - first).toBeGreaterThanOrEqual(2 * electionTicks - 1);
    expect(second - first).toBeLessThanOrEqual(2 * electionTicks + 1);
    expect(c.core('c').status().commitIndex).toBe(1);
    expect(c.core('a').role).toBe('leader');

    lose();
    tickUntil(c, () => c.core('c').status().snapshotIndex === 6, 3 * electionTicks);
    expect(c.node('c').storage.snapshot).toEqual(snapshot);
    expect(c.core('c').status().commitIndex).toBe(6);
  });

  it('reportSnapshotFailure makes the leader send the snapshot again at its next heartbeat', () => {
    const { c, reconnect, snapshot } = clusterWithCompactedLeader();
    const lost: Message[] = [];
    const lose = c.filter((m) => {
      if (m.type !== 'snapshotRequest') return true;
      lost.push(m);
      return false;
    });
    reconnect();
    c.tick();
    expect(lost).toHaveLength(1);
    lose();
    // Without a report the leader keeps waiting for the snapshot: a few more ticks send nothing.
    const quiet = c.delivered.length;
    c.tick(3);
    expect(ofType(deliveredSince(c, quiet), 'snapshotRequest')).toEqual([]);
    expect(c.core('c').status().commitIndex).toBe(1);
    const mark = c.delivered.length;
    c.core('a').reportSnapshotFailure('c');
    // Like etcd, the leader probes again with the next heartbeat instead of waiting two election
    // timeouts; the probe finds c still behind the compacted prefix.
    c.tick();
    expect(ofType(deliveredSince(c, mark), 'snapshotRequest')).toEqual([
      expect.objectContaining({ from: 'a', to: 'c', snapshot }),
    ]);
    expect(c.core('c').status()).toMatchObject({ snapshotIndex: 6, commitIndex: 6 });
  });

  it('reportSnapshotFailure is ignored for a follower that is not waiting for a snapshot', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.core('a').reportSnapshotFailure('b');
    c.core('b').reportSnapshotFailure('c');
    expect(c.core('a').hasReady()).toBe(false);
    expect(c.core('b').hasReady()).toBe(false);
  });

  it('the configuration carried by the snapshot becomes the follower configuration', () => {
    const c = new TestCluster(['a', 'b', 'c'], { trailingEntries: 0 });
    expect(c.elect('a')).toBe('a');
    const reconnect = c.isolate('c');
    const configIndex = acceptedIndex(c.core('a').proposeConfChange({ type: 'addNonvoter', id: 'x' }));
    c.stabilize();
    c.propose('a', 'after-config');
    const a = c.core('a');
    expect(a.status().commitIndex).toBe(configIndex + 1);
    const { snapshot } = takeSnapshot(c.node('a'), configIndex + 1);
    expect(snapshot.configIndex).toBe(configIndex);
    expect(snapshot.config.servers).toContainEqual({ id: 'x', suffrage: 'nonvoter' });
    expect(membersOf(c.core('c'))).toEqual(['a:voter', 'b:voter', 'c:voter']);

    reconnect();
    c.tick();
    const cc = c.core('c');
    expect(cc.status().snapshotIndex).toBe(configIndex + 1);
    expect(membersOf(cc)).toEqual(['a:voter', 'b:voter', 'c:voter', 'x:nonvoter']);
    expect(cc.status().configurationIndex).toBe(configIndex);
  });

  it('a restarted follower comes back from its snapshot with its commit, first index and configuration', () => {
    const c = new TestCluster(['a', 'b', 'c'], { trailingEntries: 0 });
    expect(c.elect('a')).toBe('a');
    const reconnect = c.isolate('c');
    const configIndex = acceptedIndex(c.core('a').proposeConfChange({ type: 'addNonvoter', id: 'x' }));
    c.stabilize();
    for (let i = 0; i < 3; i++) c.propose('a', `before-${i}`);
    const snapIndex = c.core('a').status().commitIndex;
    const { snapshot } = takeSnapshot(c.node('a'), snapIndex);
    reconnect();
    c.tick();
    c.propose('a', 'after-1');
    c.propose('a', 'after-2');
    const node = c.node('c');
    expect(node.core.status()).toMatchObject({ commitIndex: snapIndex + 2, snapshotIndex: snapIndex });
    expect(node.storage.snapshot).toEqual(snapshot);

    node.restart();
    const restarted = node.core;
    expect(restarted.status()).toMatchObject({
      role: 'follower',
      term: 1,
      snapshotIndex: snapIndex,
      firstIndex: snapIndex + 1,
      lastIndex: snapIndex + 2,
      commitIndex: snapIndex + 2,
      appliedIndex: snapIndex,
      configurationIndex: configIndex,
    });
    expect(membersOf(restarted)).toEqual(['a:voter', 'b:voter', 'c:voter', 'x:nonvoter']);
    // The restarted state machine is rebuilt from the snapshot: nothing after it is applied yet.
    expect(node.applied.every((e) => e.index <= snapIndex)).toBe(true);
    expect(appliedCommands(node)).toEqual([]);
    // It re-applies what follows the snapshot, and keeps following the leader.
    c.stabilize();
    expect(appliedCommands(node)).toEqual(['after-1', 'after-2']);
    c.propose('a', 'after-3');
    expect(appliedCommands(node)).toEqual(['after-1', 'after-2', 'after-3']);
    expect(restarted.status().commitIndex).toBe(snapIndex + 3);
  });

  it('a restarted leader comes back from its own snapshot', () => {
    const c = new TestCluster(['a', 'b', 'c'], { trailingEntries: 0 });
    expect(c.elect('a')).toBe('a');
    for (let i = 0; i < 4; i++) c.propose('a', `x${i}`);
    const { snapshot } = takeSnapshot(c.node('a'), 5);
    const node = c.node('a');
    node.restart();
    expect(node.core.status()).toMatchObject({
      role: 'follower',
      term: 1,
      snapshotIndex: 5,
      firstIndex: 6,
      lastIndex: 5,
      commitIndex: 5,
      appliedIndex: 5,
      configurationIndex: 0,
    });
    expect(node.core.configuration).toEqual(snapshot.config);
    expect(node.applied.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });
});
