/** What a node writes to its logger: each kind of event once, drops at a bounded rate. */
import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, type Message, Raft, type RaftEvents, systemClock } from '../../src/index.js';
import { TypedEmitter } from '../../src/node/events.js';
import { DROP_LOG_INTERVAL_MS, NodeLog } from '../../src/node/node-log.js';
import { MemoryStore } from '../../src/storage/index.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { CrashableStorage } from '../support/crashable-storage.js';
import { KvFsm } from '../support/kv-fsm.js';
import { heartbeat } from '../support/messages.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { waitFor } from '../support/wait.js';

const encoder = new TextEncoder();
const WAIT_MS = 5000;
/** Slower than the usual test timing, so that elections come from the test's own steps. */
const TIMING = { heartbeatTimeout: 100, electionTimeout: 300, leaderLeaseTimeout: 100 };
const running: Raft[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) await r.shutdown();
});

async function startNode(
  network: InmemNetwork,
  id: string,
  options: { bootstrap: boolean; storage?: CrashableStorage },
): Promise<{ raft: Raft; logger: RecordingLogger; storage: CrashableStorage }> {
  const storage = options.storage ?? new CrashableStorage(new MemoryStore());
  if (options.bootstrap) await Raft.bootstrapCluster(storage, { servers: [{ id, suffrage: 'voter' }] });
  const logger = new RecordingLogger();
  const raft = await Raft.start({
    // Snapshots after three entries, keeping none behind them: a joiner must be sent a snapshot.
    config: { ...TIMING, localId: id, snapshotThreshold: 3, trailingLogs: 0 },
    fsm: new KvFsm(),
    storage,
    transport: network.transport(id),
    logger,
  });
  running.push(raft);
  return { raft, logger, storage };
}

describe('the node log', () => {
  it('logs elections, leaders, membership, snapshots taken and installed, and drops', async () => {
    const network = new InmemNetwork({ seed: 5 });
    const a = await startNode(network, 'a', { bootstrap: true });
    await waitFor(() => a.raft.state() === 'leader', WAIT_MS, 'a to lead');
    for (let i = 0; i < 4; i++) await a.raft.apply(encoder.encode(`k${i}=${i}`));
    await waitFor(() => a.logger.find('info', /^snapshot taken/).length > 0, WAIT_MS, 'a snapshot on a');

    const b = await startNode(network, 'b', { bootstrap: false });
    await a.raft.addVoter('b', { timeoutMs: WAIT_MS });
    await waitFor(
      () => b.logger.find('info', /^snapshot installed/).length > 0,
      WAIT_MS,
      'b to install a snapshot',
    );
    // b joins as staging, then is promoted to voter once caught up.
    await waitFor(
      () => a.logger.find('info', /^membership committed at \d+: a, b$/).length > 0,
      WAIT_MS,
      'a to log the membership with b as a voter',
    );
    expect(a.logger.find('info', /^membership committed at \d+: a, b \(staging\)$/)).toHaveLength(1);

    // A single voter elects itself without a contest; a handover makes b campaign (thesis §3.10).
    expect(a.logger.find('info', /^elected leader \(term \d+\)$/).length).toBeGreaterThan(0);
    expect(a.logger.find('info', /^leader is a \(term \d+\)$/).length).toBeGreaterThan(0);
    expect(b.logger.find('info', /^leader is a /).length).toBeGreaterThan(0);
    await a.raft.leadershipTransfer('b', { timeoutMs: WAIT_MS });
    await waitFor(() => b.logger.find('info', /^elected leader/).length > 0, WAIT_MS, 'b to log its win');
    expect(b.logger.find('info', /^election started \(term \d+\)$/).length).toBeGreaterThan(0);
    expect(a.logger.find('info', /^stepped down \(term \d+\)$/).length).toBeGreaterThan(0);
    const [taken] = a.logger.find('info', /^snapshot taken/);
    expect(taken?.details).toMatchObject({ localId: 'a', bytes: expect.any(Number) });
    expect(taken?.details.index).toBeGreaterThanOrEqual(3);
    const [installed] = b.logger.find('info', /^snapshot installed/);
    expect(installed?.details.bytes).toBeGreaterThan(0);

    // A forged message from a server that is not in the group breaks a rule: dropped and logged.
    const mallory = network.transport('mallory');
    await mallory.start(new RecordingHandler());
    const forged: Message = { ...heartbeat('mallory', 'a'), term: -1 };
    mallory.send(forged);
    await waitFor(
      () => a.logger.find('warn', /^dropped 1 peer message\(s\) \(malformed\)$/).length === 1,
      WAIT_MS,
      'the drop to be logged',
    );
    await mallory.close();
  });

  it('logs a fail-stop as an error', async () => {
    const network = new InmemNetwork({ seed: 6 });
    const a = await startNode(network, 'a', { bootstrap: true });
    await waitFor(() => a.raft.state() === 'leader', WAIT_MS, 'a to lead');
    a.storage.crash();
    await expect(a.raft.apply(encoder.encode('x=1'), { timeoutMs: WAIT_MS })).rejects.toThrow();
    const errors = a.logger.find('error', /^the node stopped after a local failure/);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.details.error).toBe('the storage crashed');
  });
});

/** Node events fired by hand, for the rate of drop lines on a clock the test moves. */
class FakeNode extends TypedEmitter<RaftEvents> {
  fire<K extends keyof RaftEvents & string>(event: K, payload: RaftEvents[K]): void {
    this.emit(event, payload);
  }
}

describe('NodeLog drop lines', () => {
  it('logs the first drop of a reason at once, then at most one line per interval with the count', () => {
    let now = 1_000_000;
    const clock: Clock = { ...systemClock, now: () => now };
    const logger = new RecordingLogger();
    const dropped: Record<string, number> = {};
    const node = new FakeNode(clock);
    const log = new NodeLog({ id: 'n', logger, clock, on: (e, l) => node.on(e, l), dropped: () => dropped });
    const lines = () => logger.find('warn', /^dropped/).map((l) => [l.details.reason, l.details.dropped]);

    dropped.malformed = 1;
    now += 1000;
    log.checkDrops();
    expect(lines()).toEqual([['malformed', 1]]);

    dropped.malformed = 50;
    dropped.notMember = 2;
    now += 1000;
    log.checkDrops();
    // malformed was logged a second ago: only the new reason shows.
    expect(lines()).toEqual([
      ['malformed', 1],
      ['notMember', 2],
    ]);

    now += DROP_LOG_INTERVAL_MS;
    log.checkDrops();
    expect(lines()).toEqual([
      ['malformed', 1],
      ['notMember', 2],
      ['malformed', 49],
    ]);

    // Checked at most once a second, however often the node ticks.
    dropped.secondLeader = 1;
    now += 10;
    log.checkDrops();
    expect(lines()).toHaveLength(3);
  });

  it('describes role changes', () => {
    const logger = new RecordingLogger();
    const node = new FakeNode();
    new NodeLog({ id: 'n', logger, clock: systemClock, on: (e, l) => node.on(e, l), dropped: () => ({}) });
    node.fire('stateChange', { previous: 'follower', current: 'preCandidate', term: 1 });
    node.fire('stateChange', { previous: 'leader', current: 'follower', term: 4 });
    node.fire('heartbeatFailed', { peer: 'p', lastContact: 0 });
    node.fire('snapshotFailed', { error: new Error('disk full') });
    expect(logger.lines.map((l) => `${l.level} ${l.message}`)).toEqual([
      'info pre-vote started (term 1)',
      'info stepped down (term 4)',
      'warn peer p stopped answering',
      'warn snapshot failed',
    ]);
  });

  it('writes each event as one line with its details (transcript)', () => {
    const logger = new RecordingLogger();
    const node = new FakeNode();
    new NodeLog({ id: 'n', logger, clock: systemClock, on: (e, l) => node.on(e, l), dropped: () => ({}) });
    const servers = [
      { id: 'n', suffrage: 'voter' as const },
      { id: 'o', suffrage: 'staging' as const },
    ];
    node.fire('stateChange', { previous: 'preCandidate', current: 'candidate', term: 2 });
    node.fire('stateChange', { previous: 'candidate', current: 'leader', term: 2 });
    node.fire('stateChange', { previous: 'candidate', current: 'follower', term: 3 });
    node.fire('leaderChange', { leader: null, term: 3 });
    node.fire('leaderChange', { leader: 'o', term: 3 });
    node.fire('peerChange', { configuration: { servers }, index: 7 });
    node.fire('configurationCommitted', { configuration: { servers: [] }, index: 8 });
    node.fire('heartbeatResumed', { peer: 'o' });
    node.fire('snapshotTaken', { index: 9, bytes: 10, durationMs: 11 });
    node.fire('snapshotInstalled', { index: 12, bytes: 13, durationMs: 14 });
    node.fire('snapshotFailed', { error: new Error('disk full') });
    const transcript = logger.lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.details)}`);
    expect(transcript).toEqual([
      'info election started (term 2) {"localId":"n","previous":"preCandidate","role":"candidate","term":2}',
      'info elected leader (term 2) {"localId":"n","previous":"candidate","role":"leader","term":2}',
      'info follower (term 3) {"localId":"n","previous":"candidate","role":"follower","term":3}',
      'info no leader known (term 3) {"localId":"n","leader":null,"term":3}',
      'info leader is o (term 3) {"localId":"n","leader":"o","term":3}',
      'debug membership in force from 7 (not committed yet): n, o (staging) {"localId":"n","index":7,"servers":[{"id":"n","suffrage":"voter"},{"id":"o","suffrage":"staging"}]}',
      'info membership committed at 8: (no servers) {"localId":"n","index":8,"servers":[]}',
      'info peer o answers again {"localId":"n","peer":"o"}',
      'info snapshot taken at 9 {"localId":"n","index":9,"bytes":10,"durationMs":11}',
      'info snapshot installed at 12 {"localId":"n","index":12,"bytes":13,"durationMs":14}',
      'warn snapshot failed {"localId":"n","error":"disk full"}',
    ]);
  });
});
