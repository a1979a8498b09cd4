/** RaftMetrics: every family, its values, and text that Prometheus's own linter accepts. */
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type MqttTransportStats,
  RaftBinding,
  type RaftEvents,
  RaftMetrics,
  type RaftStats,
} from '../../src/index.js';
import { TypedEmitter } from '../../src/node/events.js';
import { newStats } from '../../src/transport/mqtt-stats.js';
import { BindingGroup, set } from '../support/binding-group.js';
import { type PromFamily, parsePromText, sampleValue } from '../support/prom-text.js';
import { checkMetrics } from '../support/promtool.js';
import { waitFor } from '../support/wait.js';

/** Every family a node on an MQTT transport reports, with its type. */
const FAMILIES: Record<string, PromFamily['type']> = {
  mqtt_raft_term: 'gauge',
  mqtt_raft_role: 'gauge',
  mqtt_raft_leader_known: 'gauge',
  mqtt_raft_commit_index: 'gauge',
  mqtt_raft_applied_index: 'gauge',
  mqtt_raft_last_log_index: 'gauge',
  mqtt_raft_last_snapshot_index: 'gauge',
  mqtt_raft_voters: 'gauge',
  mqtt_raft_pending_proposals: 'gauge',
  mqtt_raft_dropped_messages_total: 'counter',
  mqtt_raft_leader_changes_total: 'counter',
  mqtt_raft_proposals_total: 'counter',
  mqtt_raft_proposal_commit_seconds: 'histogram',
  mqtt_raft_snapshot_duration_seconds: 'histogram',
  mqtt_raft_snapshot_size_bytes: 'histogram',
  mqtt_raft_snapshot_failures_total: 'counter',
  mqtt_raft_broker_connected: 'gauge',
  mqtt_raft_broker_reconnects_total: 'counter',
  mqtt_raft_transport_messages_total: 'counter',
  mqtt_raft_transport_dropped_total: 'counter',
  mqtt_raft_forwarded_requests_total: 'counter',
};

/** Scrapes `metrics`, checks the text with promtool and the strict parser, and returns the families. */
async function scrape(metrics: RaftMetrics): Promise<Map<string, PromFamily>> {
  const { contentType, text } = await metrics.scrape();
  expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  const lint = await checkMetrics(text);
  expect(lint, text).toEqual({ code: 0, output: '' });
  const families = parsePromText(text);
  expect(Object.fromEntries([...families].map(([name, f]) => [name, f.type]))).toEqual(FAMILIES);
  for (const [name, family] of families) expect(family.help, name).not.toBe('');
  return families;
}

/** A node whose stats and events the test sets by hand. */
class FakeNode extends TypedEmitter<RaftEvents> {
  current: RaftStats = {
    id: 'n',
    state: 'follower',
    term: 7,
    leader: 'm',
    commitIndex: 40,
    appliedIndex: 39,
    lastLogIndex: 41,
    lastLogTerm: 7,
    lastSnapshotIndex: 20,
    configurationIndex: 3,
    voters: 3,
    pendingProposals: 2,
    readiesHandled: 100,
    entriesPersisted: 41,
    batchesPersisted: 30,
    readiesDeferred: 0,
    droppedMessages: { malformed: 4, notMember: 1 },
    transferTarget: null,
  };

  stats(): RaftStats {
    return this.current;
  }

  fire<K extends keyof RaftEvents & string>(event: K, payload: RaftEvents[K]): void {
    this.emit(event, payload);
  }
}

function transportStub(): { stats: MqttTransportStats; connected: boolean } {
  const stats = { ...newStats(), sent: 12, received: 9, dropped: 3, reconnects: 1, forwardsSent: 5 };
  return { connected: true, stats: { ...stats, droppedReasons: { undecodable: 2, replayed: 1 } } };
}

describe('RaftMetrics on a node whose stats and events the test sets', () => {
  it('reports the stats at each scrape and counts the events while observing', async () => {
    const node = new FakeNode();
    const transport = transportStub();
    const metrics = new RaftMetrics();
    const stop = metrics.observe({ raft: node, transport });

    node.fire('leaderChange', { leader: 'm', term: 7 });
    node.fire('leaderChange', { leader: null, term: 8 });
    node.fire('proposalSettled', { outcome: 'applied', durationMs: 4 });
    node.fire('proposalSettled', { outcome: 'applied', durationMs: 30 });
    node.fire('proposalSettled', { outcome: 'TIMEOUT', durationMs: 1000 });
    node.fire('snapshotTaken', { index: 20, bytes: 5000, durationMs: 12 });
    node.fire('snapshotInstalled', { index: 30, bytes: 70_000, durationMs: 250 });
    node.fire('snapshotFailed', { error: new Error('disk full') });

    const f = await scrape(metrics);
    const v = (family: string, labels: Record<string, string> = {}, name = family) =>
      sampleValue(f, family, labels, name);
    expect(v('mqtt_raft_term')).toBe(7);
    expect(v('mqtt_raft_role', { role: 'follower' })).toBe(1);
    expect(v('mqtt_raft_role', { role: 'leader' })).toBe(0);
    expect(v('mqtt_raft_leader_known')).toBe(1);
    expect([v('mqtt_raft_commit_index'), v('mqtt_raft_applied_index')]).toEqual([40, 39]);
    expect([v('mqtt_raft_last_log_index'), v('mqtt_raft_last_snapshot_index')]).toEqual([41, 20]);
    expect([v('mqtt_raft_voters'), v('mqtt_raft_pending_proposals')]).toEqual([3, 2]);
    expect(v('mqtt_raft_dropped_messages_total', { reason: 'malformed' })).toBe(4);
    expect(v('mqtt_raft_dropped_messages_total', { reason: 'notMember' })).toBe(1);
    // A lost leader is no leader change.
    expect(v('mqtt_raft_leader_changes_total')).toBe(1);
    expect(v('mqtt_raft_proposals_total', { outcome: 'applied' })).toBe(2);
    expect(v('mqtt_raft_proposals_total', { outcome: 'TIMEOUT' })).toBe(1);
    const commit = 'mqtt_raft_proposal_commit_seconds';
    expect(v(commit, {}, `${commit}_count`)).toBe(2);
    expect(v(commit, {}, `${commit}_sum`)).toBeCloseTo(0.034);
    expect(v(commit, { le: '0.005' }, `${commit}_bucket`)).toBe(1);
    const seconds = 'mqtt_raft_snapshot_duration_seconds';
    expect(v(seconds, { kind: 'taken' }, `${seconds}_sum`)).toBeCloseTo(0.012);
    expect(v(seconds, { kind: 'installed' }, `${seconds}_sum`)).toBeCloseTo(0.25);
    const bytes = 'mqtt_raft_snapshot_size_bytes';
    expect(v(bytes, { kind: 'taken' }, `${bytes}_sum`)).toBe(5000);
    expect(v(bytes, { kind: 'installed', le: '65536' }, `${bytes}_bucket`)).toBe(0);
    expect(v(bytes, { kind: 'installed', le: '262144' }, `${bytes}_bucket`)).toBe(1);
    expect(v('mqtt_raft_snapshot_failures_total')).toBe(1);
    expect(v('mqtt_raft_broker_connected')).toBe(1);
    expect(v('mqtt_raft_broker_reconnects_total')).toBe(1);
    expect(v('mqtt_raft_transport_messages_total', { direction: 'sent' })).toBe(12);
    expect(v('mqtt_raft_transport_messages_total', { direction: 'received' })).toBe(9);
    expect(v('mqtt_raft_transport_dropped_total', { reason: 'undecodable' })).toBe(2);
    expect(v('mqtt_raft_forwarded_requests_total', { direction: 'sent' })).toBe(5);

    // Scrape time reads the stats as they are now.
    node.current = { ...node.current, state: 'leader', term: 8 };
    transport.connected = false;
    const later = await scrape(metrics);
    expect(sampleValue(later, 'mqtt_raft_role', { role: 'leader' })).toBe(1);
    expect(sampleValue(later, 'mqtt_raft_term')).toBe(8);
    expect(sampleValue(later, 'mqtt_raft_broker_connected')).toBe(0);

    // Stopped: events no longer count, and another node may be observed.
    stop();
    node.fire('proposalSettled', { outcome: 'applied', durationMs: 1 });
    const next = new FakeNode();
    metrics.observe({ raft: next });
    const after = parsePromText((await metrics.scrape()).text);
    expect(sampleValue(after, 'mqtt_raft_proposals_total', { outcome: 'applied' })).toBe(2);
    // Without a transport: not connected, and no counts.
    expect(sampleValue(after, 'mqtt_raft_broker_connected')).toBe(0);
    expect(after.get('mqtt_raft_transport_dropped_total')?.samples).toEqual([]);
  });

  it('is refused by a binding unless it is one, as is a logger without the four methods', () => {
    const options = { id: 'a', broker: 'mqtt://127.0.0.1:1883' };
    const refusal = (extra: Record<string, unknown>) => {
      try {
        new RaftBinding({ ...options, ...extra });
        return null;
      } catch (err) {
        return err;
      }
    };
    expect(refusal({ metrics: {} })).toMatchObject({
      code: 'INVALID_CONFIG',
      message: 'metrics: must be a RaftMetrics',
    });
    expect(refusal({ logger: { info: () => undefined } })).toMatchObject({
      code: 'INVALID_CONFIG',
      message: 'logger: must have debug, info, warn and error methods',
    });
    expect(refusal({ metrics: new RaftMetrics(), logger: console })).toBeNull();
  });

  it('observes one node at a time', () => {
    const metrics = new RaftMetrics();
    metrics.observe({ raft: new FakeNode() });
    expect(() => metrics.observe({ raft: new FakeNode() })).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
  });
});

let group: BindingGroup | null = null;

afterEach(async () => {
  await group?.shutdown();
  group = null;
});

describe('RaftMetrics of bindings on a broker', () => {
  it('shows plausible values after writes, a forward, a snapshot sent to a joiner and a dropped payload', async () => {
    // Slower than the usual test timing, so that a stays the leader throughout on a loaded machine.
    const timing = { heartbeatTimeout: 100, electionTimeout: 300 };
    const g = await BindingGroup.create('aedes', { ...timing, snapshotThreshold: 3, trailingLogs: 0 });
    group = g;
    const metricsA = new RaftMetrics();
    const metricsB = new RaftMetrics();
    const a = await g.open('a', { bootstrap: true, metrics: metricsA });
    for (let i = 0; i < 5; i++) await a.proposeInput(set(`k${i}`, `v${i}`));
    // b joins after a compacted its log: it is sent a snapshot.
    const b = await g.open('b', { metrics: metricsB });
    await b.proposeInput(set('from-b', 'x'));
    const rogue = await connectAsync(g.broker.url);
    await rogue.publishAsync(`mqtt-raft/${g.cluster}/node/a/in`, Buffer.from([0xc1]), { qos: 1 });
    await rogue.endAsync();
    await waitFor(
      () => (a.transportStats().droppedReasons.undecodable ?? 0) === 1,
      5000,
      'a to drop the rogue payload',
    );

    const fa = await scrape(metricsA);
    const fb = await scrape(metricsB);
    expect(sampleValue(fa, 'mqtt_raft_role', { role: 'leader' })).toBe(1);
    expect(sampleValue(fb, 'mqtt_raft_role', { role: 'follower' })).toBe(1);
    expect(sampleValue(fa, 'mqtt_raft_term')).toBeGreaterThan(0);
    expect(sampleValue(fa, 'mqtt_raft_term')).toBe(sampleValue(fb, 'mqtt_raft_term'));
    expect(sampleValue(fa, 'mqtt_raft_leader_changes_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(fa, 'mqtt_raft_voters')).toBe(2);
    const commitA = sampleValue(fa, 'mqtt_raft_commit_index') ?? 0;
    expect(commitA).toBeGreaterThanOrEqual(8);
    expect(sampleValue(fa, 'mqtt_raft_applied_index')).toBe(commitA);
    expect(sampleValue(fa, 'mqtt_raft_last_snapshot_index')).toBeGreaterThanOrEqual(3);
    // Five proposals made on a, one on b (forwarded to a, which serves it).
    expect(sampleValue(fa, 'mqtt_raft_proposals_total', { outcome: 'applied' })).toBe(5);
    expect(sampleValue(fb, 'mqtt_raft_proposals_total', { outcome: 'applied' })).toBe(1);
    const commit = 'mqtt_raft_proposal_commit_seconds';
    expect(sampleValue(fa, commit, {}, `${commit}_count`)).toBe(5);
    expect(sampleValue(fa, commit, {}, `${commit}_sum`)).toBeGreaterThan(0);
    expect(sampleValue(fb, 'mqtt_raft_forwarded_requests_total', { direction: 'sent' })).toBeGreaterThan(0);
    expect(sampleValue(fa, 'mqtt_raft_forwarded_requests_total', { direction: 'served' })).toBeGreaterThan(0);
    const size = 'mqtt_raft_snapshot_size_bytes';
    expect(sampleValue(fa, size, { kind: 'taken' }, `${size}_count`)).toBeGreaterThanOrEqual(1);
    expect(sampleValue(fa, size, { kind: 'taken' }, `${size}_sum`)).toBeGreaterThan(0);
    // With trailingLogs 0 the leader may compact again while b catches up, so b may be sent a
    // second snapshot: at least one install, and each one timed as well as sized.
    const installs = sampleValue(fb, size, { kind: 'installed' }, `${size}_count`) ?? 0;
    expect(installs).toBeGreaterThanOrEqual(1);
    const seconds = 'mqtt_raft_snapshot_duration_seconds';
    expect(sampleValue(fb, seconds, { kind: 'installed' }, `${seconds}_count`)).toBe(installs);
    expect(sampleValue(fa, 'mqtt_raft_broker_connected')).toBe(1);
    expect(sampleValue(fa, 'mqtt_raft_transport_messages_total', { direction: 'sent' })).toBeGreaterThan(0);
    expect(sampleValue(fb, 'mqtt_raft_transport_messages_total', { direction: 'received' })).toBeGreaterThan(
      0,
    );
    expect(sampleValue(fa, 'mqtt_raft_transport_dropped_total', { reason: 'undecodable' })).toBe(1);
  });
});
