import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { controlRequest } from '../../src/cli/control-client.js';
import type { WireMember } from '../../src/cli/control-protocol.js';
import { msgpackDecode } from '../../src/msgpack.js';
import type { Cli } from '../support/cli-process.js';
import { CliRunner, cliEnv } from '../support/cli-runner.js';
import { waitFor } from '../support/wait.js';

/** Generous, because every child compiles the CLI with tsx on start. */
const DEADLINE_MS = 20_000;
/**
 * A leader lease (half the heartbeat timeout) long enough to ride out the stalls of a loaded
 * machine: these tests act on the leader they found.
 */
const TIMING = ['--heartbeat-timeout', '1000', '--election-timeout', '2000'];
/** How long a member may take to join: on a loaded machine, starting and joining is slow. */
const JOIN_MS = 30_000;

let broker: RunningBroker;
let dir: string;
let cluster: string;
const cli = new CliRunner(cliEnv(), DEADLINE_MS);

beforeAll(async () => {
  broker = await startBroker({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await broker.close();
});

let clusters = 0;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-members-'));
  cluster = `members-${++clusters}`;
});

afterEach(async () => {
  cli.killAll();
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
});

/** Starts member `id` (bootstrapping when asked) and waits until it serves its control socket. */
async function startMember(
  id: string,
  bootstrap = false,
  extra: readonly string[] = [],
  runner: CliRunner = cli,
): Promise<Cli> {
  const args = [
    'node',
    '--id',
    id,
    '--broker',
    broker.url,
    '--cluster',
    cluster,
    '--data',
    data(id),
    ...TIMING,
  ];
  const node = runner.start([
    ...args,
    '--startup-timeout',
    String(JOIN_MS),
    ...(bootstrap ? ['--bootstrap'] : []),
    ...extra,
  ]);
  await runner.waitForOutput(node, /ready; control socket/, `${id} to be ready`, JOIN_MS + DEADLINE_MS);
  return node;
}

function data(id: string): string {
  return join(dir, id);
}

/**
 * The members as member `id` lists them, asked on its control socket directly: conditions are
 * polled this way, as a process per poll would load the machine; the commands under test run as
 * `mqtt-raft` processes.
 */
async function membersOf(id: string): Promise<WireMember[]> {
  const response = await controlRequest(socket(id), { cmd: 'members' }, DEADLINE_MS);
  if (!response.ok || response.members === undefined)
    throw new Error(`members of ${id}: ${JSON.stringify(response)}`);
  return response.members;
}

function socket(id: string): string {
  return join(data(id), 'control.sock');
}

/**
 * The members as the leader lists them (with health), once a member answers as the leader with a
 * list that satisfies `ready`; the members in `ids` are asked in turn.
 */
async function leaderView(
  ids: readonly string[],
  ready: (members: WireMember[]) => boolean,
): Promise<{ leader: string; members: WireMember[] }> {
  let view: { leader: string; members: WireMember[] } | null = null;
  await waitFor(
    async () => {
      for (const id of ids) {
        const members = await membersOf(id);
        if (members.some((m) => m.id === id && m.leader) && ready(members)) view = { leader: id, members };
      }
      return view !== null;
    },
    DEADLINE_MS,
    'the leader to list the members',
  );
  return view as unknown as { leader: string; members: WireMember[] };
}

/** The leader as member `id` knows it, once it knows one. */
async function leaderOf(id: string): Promise<string> {
  let leader: string | null = null;
  await waitFor(
    async () => {
      const response = await controlRequest(socket(id), { cmd: 'status' }, DEADLINE_MS);
      leader = response.ok ? (response.status?.leader ?? null) : null;
      return leader !== null;
    },
    DEADLINE_MS,
    `${id} to know a leader`,
  );
  return leader as unknown as string;
}

describe('mqtt-raft members', () => {
  it('node --key-file: members sealed with one key form a group; the broker sees no plain body', async () => {
    const keyFile = join(dir, 'group.key');
    await writeFile(keyFile, `${randomBytes(32).toString('hex')}\n`);
    const spy = await connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    const envelopes: Array<Record<string, unknown>> = [];
    spy.on('message', (_topic, payload) => envelopes.push(msgpackDecode(payload) as Record<string, unknown>));
    await spy.subscribeAsync(`mqtt-raft/${cluster}/#`, { qos: 0 });
    // Without the group key every CLI test gets from its environment: only the file can seal.
    const env = cliEnv();
    delete env.MQTT_RAFT_GROUP_KEY;
    const keyless = new CliRunner(env, DEADLINE_MS);
    try {
      await startMember('a', true, ['--key-file', keyFile], keyless);
      await startMember('b', false, ['--key-file', keyFile], keyless);
      await leaderView(['a', 'b'], (listed) => listed.filter((m) => m.suffrage === 'voter').length === 2);
      const set = await cli.run(['set', 'secret', 'plain-text-value', '--data', data('b')]);
      expect(set.code).toBe(0);
      const got = await cli.run(['get', 'secret', '--data', data('a'), '--linearizable']);
      expect(got.stdout).toContain('plain-text-value');
      expect(envelopes.length).toBeGreaterThan(10);
      // Every envelope is sealed: a ciphertext `x` in place of the body `b`.
      expect(envelopes.filter((e) => !(e.x instanceof Uint8Array) || 'b' in e)).toEqual([]);
    } finally {
      keyless.killAll();
      await spy.endAsync();
    }
  });

  it('node --observer joins as a non-voter', async () => {
    await startMember('a', true);
    await startMember('o', false, ['--observer']);
    const { members } = await leaderView(['a'], (listed) => listed.length === 2);
    expect(members.map((m) => [m.id, m.suffrage])).toEqual([
      ['a', 'voter'],
      ['o', 'nonvoter'],
    ]);
  });

  it('node --voters: beyond the budget members join as non-voters; a voter killed with SIGKILL is replaced', async () => {
    const budget = ['--voters', '3', '--voter-loss-timeout', '3000'];
    const nodes = new Map<string, Cli>();
    nodes.set('a', await startMember('a', true, budget));
    const voters = async () =>
      (await membersOf('a'))
        .filter((m) => m.suffrage === 'voter')
        .map((m) => m.id)
        .join(' ');
    for (const [id, expected] of [
      ['b', 'a b'],
      ['c', 'a b c'],
    ] as const) {
      nodes.set(id, await startMember(id, false, budget));
      await waitFor(async () => (await voters()) === expected, DEADLINE_MS, `${id} to be promoted`);
    }
    nodes.set('d', await startMember('d', false, budget));
    const before = await membersOf('a');
    expect(before.map((m) => [m.id, m.suffrage])).toEqual([
      ['a', 'voter'],
      ['b', 'voter'],
      ['c', 'voter'],
      ['d', 'nonvoter'],
    ]);

    const leader = await leaderOf('a');
    const victim = ['b', 'c'].find((id) => id !== leader) as string;
    nodes.get(victim)?.child.kill('SIGKILL');
    const survivor = ['a', 'b', 'c'].find((id) => id !== victim && id !== leader) ?? leader;
    await waitFor(
      async () =>
        JSON.stringify((await membersOf(survivor)).map((m) => [m.id, m.suffrage])) ===
        JSON.stringify(['a', 'b', 'c', 'd'].map((id) => [id, id === victim ? 'nonvoter' : 'voter'])),
      DEADLINE_MS,
      `d to replace ${victim}`,
    );
    const set = await cli.run(['set', 'after', 'replacement', '--data', data('d')]);
    expect(set.code, set.stderr).toBe(0);
  }, 300_000);

  it('takes a member killed for good out of a group of three; a new member restores fault tolerance', async () => {
    const nodes = new Map<string, Cli>();
    nodes.set('a', await startMember('a', true));
    for (const id of ['b', 'c']) nodes.set(id, await startMember(id));
    await waitFor(
      async () => (await membersOf('a')).filter((m) => m.suffrage === 'voter').length === 3,
      DEADLINE_MS,
      'three voters',
    );

    nodes.get('c')?.child.kill('SIGKILL');
    const removed = await cli.run(['members', 'remove', 'c', '--data', data('b')]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/^OK \(index \d+\)\n$/);
    expect(removed.stderr).toBe(
      'mqtt-raft members: warning: the group keeps 2 voters: it tolerates no failure; add a member to restore fault tolerance\n',
    );
    for (const id of ['a', 'b']) {
      await waitFor(
        async () => (await membersOf(id)).map((m) => m.id).join(' ') === 'a b',
        DEADLINE_MS,
        `${id} to list a and b only`,
      );
    }

    nodes.set('d', await startMember('d'));
    await waitFor(
      async () =>
        (await membersOf('d')).map((m) => `${m.id}:${m.suffrage}`).join(' ') === 'a:voter b:voter d:voter',
      DEADLINE_MS,
      'd to join as a voter',
    );

    // The group of three tolerates a failure again: kill its leader, and it stays writable.
    const victim = await leaderOf('a');
    nodes.get(victim)?.child.kill('SIGKILL');
    const survivors = ['a', 'b', 'd'].filter((id) => id !== victim);
    const write = await cli.run([
      'set',
      'after',
      'failover',
      '--timeout',
      '15000',
      '--data',
      data(survivors[0] as string),
    ]);
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toMatch(/^OK \(index \d+\)\n$/);
    for (const id of survivors) {
      const listed = await cli.run(['members', '--data', data(id)]);
      expect(listed.code).toBe(0);
      expect(listed.stdout).not.toMatch(/^c\s/m);
      expect(listed.stdout.split('\n').filter((line) => line !== '')).toHaveLength(3);
    }
  }, 300_000);

  it('lists health on the leader, adds, promotes and demotes members, and hands over leadership', async () => {
    await startMember('a', true);
    await startMember('b');
    const bothVote = (members: WireMember[]) => members.every((m) => m.suffrage === 'voter');
    await leaderView(['a', 'b'], bothVote);
    // `members` as each prints it, taken when both name the same leader: on a loaded machine
    // leadership may move between two commands.
    const printed = new Map<string, string>();
    let leader = '';
    const named = (text: string | undefined) => /^(\S+)\s+voter\s+leader/m.exec(text ?? '')?.[1];
    await waitFor(
      async () => {
        const [a, b] = await Promise.all(['a', 'b'].map((id) => cli.run(['members', '--data', data(id)])));
        printed.set('a', a?.stdout ?? '');
        printed.set('b', b?.stdout ?? '');
        leader = named(printed.get('a')) ?? '';
        return leader !== '' && named(printed.get('b')) === leader;
      },
      3 * DEADLINE_MS,
      'both members to name the same leader',
    );
    const follower = leader === 'a' ? 'b' : 'a';
    // The leader's line: it is its own last contact, and matches its whole log.
    const line = (id: string) =>
      id === leader
        ? `${id}\\s+voter\\s+leader\\s+last contact 0 ms ago, match \\d+, lag 0`
        : `${id}\\s+voter\\s+last contact \\d+ ms ago, match \\d+, lag \\d+`;
    expect(printed.get(leader)).toMatch(new RegExp(`^${line('a')}\\n${line('b')}\\n$`));
    // A follower does not know its peers' health: its lines end after the role (and leader mark).
    expect(printed.get(follower)).toBe(
      `a  voter${leader === 'a' ? '  leader' : ''}\nb  voter${leader === 'b' ? '  leader' : ''}\n`,
    );

    const [added, usage, unknown] = await Promise.all([
      cli.run(['members', 'add', 'x', '--non-voter', '--data', data(follower)]),
      cli.run(['members', 'add', 'x', '--data', data(follower)]),
      cli.run(['members', 'remove', 'nobody', '--data', data(leader)]),
    ]);
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/members add needs --non-voter/);
    // An invalid request exits 2, like any other invalid input (docs/cli.md, exit codes).
    expect(unknown).toMatchObject({
      code: 2,
      stderr: 'mqtt-raft members: INVALID_INPUT: removeMember: nobody is not a member of the group\n',
    });
    const withX = await leaderView(['a', 'b'], (members) => members.some((m) => m.id === 'x'));
    expect(withX.members.find((m) => m.id === 'x')).toMatchObject({
      suffrage: 'nonvoter',
      health: { lastContactMs: null, matchIndex: 0 },
    });

    const demoted = await cli.run(['members', 'demote', follower, '--data', data(leader)]);
    expect(demoted.code, demoted.stderr).toBe(0);
    expect(demoted.stderr).toContain('warning: the group keeps 1 voter: it tolerates no failure');
    expect((await cli.run(['members', 'promote', follower, '--data', data(leader)])).code).toBe(0);
    await waitFor(
      async () => (await membersOf(leader)).find((m) => m.id === follower)?.suffrage === 'voter',
      DEADLINE_MS,
      `${follower} to vote again`,
    );
    expect((await cli.run(['members', 'remove', 'x', '--data', data(leader)])).code).toBe(0);

    const from = (await leaderView(['a', 'b'], bothVote)).leader;
    const to = from === 'a' ? 'b' : 'a';
    const refused = await cli.run(['leader', 'transfer', '--data', data(to)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `NOT_LEADER: transferLeadership: ${to} does not lead; ask the leader (${from})`,
    );
    const transferred = await cli.run(['leader', 'transfer', to, '--data', data(from)]);
    expect(transferred).toMatchObject({ code: 0, stdout: `OK (leader: ${to})\n` });
    expect(await cli.run(['leader', '--data', data(from)])).toMatchObject({ code: 0, stdout: `${to}\n` });
    expect((await membersOf(to)).map((m) => m.id)).toEqual(['a', 'b']);
  }, 300_000);
});
