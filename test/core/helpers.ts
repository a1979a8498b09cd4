/**
 * Small helpers for driving single RaftCore instances by hand in the core tests: building a core
 * from a chosen initial state, crafting messages, and running one Ready through the contract.
 */
import {
  type AppendRequest,
  type Configuration,
  type CoreInitialState,
  type CoreOptions,
  type Entry,
  type EntryType,
  type HardState,
  type HeartbeatRequest,
  type Message,
  type MessageType,
  RaftCore,
  type Ready,
  seededRandom,
  type VoteRequest,
  type VoteResponse,
} from '../../src/core/index.js';
import { TestCluster } from '../support/cluster.js';

const encoder = new TextEncoder();

/** A configuration in which every id is a voter. */
export function votersConfig(...ids: string[]): Configuration {
  return { servers: ids.map((id) => ({ id, suffrage: 'voter' as const })) };
}

/** A configuration of voters `voters` and non-voters `nonvoters`. */
export function mixedConfig(voters: readonly string[], nonvoters: readonly string[]): Configuration {
  return {
    servers: [
      ...voters.map((id) => ({ id, suffrage: 'voter' as const })),
      ...nonvoters.map((id) => ({ id, suffrage: 'nonvoter' as const })),
    ],
  };
}

/** An entry; `text` becomes its data. */
export function entry(index: number, term: number, type: EntryType = 'command', text = ''): Entry {
  return { index, term, type, data: encoder.encode(text) };
}

/** Entries with the given terms, numbered from `first`. */
export function entries(first: number, terms: readonly number[]): Entry[] {
  return terms.map((term, i) => entry(first + i, term));
}

export interface CoreSetup {
  readonly options?: Partial<Omit<CoreOptions, 'id' | 'random'>>;
  readonly hardState?: HardState;
  readonly entries?: readonly Entry[];
  readonly seed?: number;
}

/** A core for `id` in `config` (a voter list or a full configuration), starting from `setup`. */
export function newCore(
  id: string,
  config: readonly string[] | Configuration,
  setup: CoreSetup = {},
): RaftCore {
  const configuration = Array.isArray(config)
    ? votersConfig(...(config as readonly string[]))
    : (config as Configuration);
  const initial: CoreInitialState = {
    hardState: setup.hardState ?? { term: 0, vote: null, commit: 0 },
    snapshot: { index: 0, term: 0, config: configuration, configIndex: 0 },
    entries: setup.entries ?? [],
  };
  return new RaftCore({ ...setup.options, id, random: seededRandom(setup.seed ?? 1) }, initial);
}

/** Takes one Ready, pretends to persist/send/apply it, and advances. */
export function drain(core: RaftCore): Ready {
  const ready = core.ready();
  core.advance(ready);
  return ready;
}

/** Every message of a Ready: the early ones (a leader's appends and heartbeats) and the rest. */
export function sent(ready: Ready): Message[] {
  return [...ready.earlyMessages, ...ready.messages];
}

/** UTF-8 bytes of `s`: proposal data in tests. */
export function text(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Steps each of `messages` into its addressee and returns their answers (a Ready's messages each). */
export function answersTo(cluster: TestCluster, messages: readonly Message[]): Message[] {
  const out: Message[] = [];
  for (const m of messages) {
    const core = cluster.core(m.to);
    core.step(m);
    out.push(...drain(core).messages);
  }
  return out;
}

/**
 * A three-server cluster with `a` elected and one proposal made, its Ready taken out:
 * the starting point of the early-message and write-in-flight tests.
 */
export function leaderWithProposal(): { c: TestCluster; a: RaftCore; ready: Ready } {
  const c = new TestCluster(['a', 'b', 'c']);
  if (c.elect('a') !== 'a') throw new Error('a was not elected');
  const a = c.core('a');
  a.propose(text('x'));
  return { c, a, ready: a.ready() };
}

/** The messages of `type` in `messages`, typed. */
export function ofType<T extends MessageType>(
  messages: readonly Message[],
  type: T,
): Extract<Message, { type: T }>[] {
  return messages.filter((m): m is Extract<Message, { type: T }> => m.type === type);
}

/** Fails the test when `value` is missing; returns it narrowed. */
export function must<T>(value: T | null | undefined, what = 'value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what} to be present`);
  return value;
}

export function voteRequest(
  from: string,
  to: string,
  term: number,
  fields: Partial<Pick<VoteRequest, 'preVote' | 'lastLogIndex' | 'lastLogTerm' | 'transfer'>> = {},
): VoteRequest {
  return {
    type: 'voteRequest',
    from,
    to,
    term,
    preVote: fields.preVote ?? false,
    lastLogIndex: fields.lastLogIndex ?? 0,
    lastLogTerm: fields.lastLogTerm ?? 0,
    transfer: fields.transfer ?? false,
  };
}

export function voteResponse(
  from: string,
  to: string,
  term: number,
  granted: boolean,
  preVote = false,
): VoteResponse {
  return { type: 'voteResponse', from, to, term, granted, preVote };
}

export function appendRequest(
  from: string,
  to: string,
  term: number,
  fields: Partial<Pick<AppendRequest, 'prevIndex' | 'prevTerm' | 'entries' | 'commit'>> = {},
): AppendRequest {
  return {
    type: 'appendRequest',
    from,
    to,
    term,
    prevIndex: fields.prevIndex ?? 0,
    prevTerm: fields.prevTerm ?? 0,
    entries: fields.entries ?? [],
    commit: fields.commit ?? 0,
  };
}

export function heartbeatRequest(from: string, to: string, term: number, commit = 0): HeartbeatRequest {
  return { type: 'heartbeatRequest', from, to, term, commit, context: 0 };
}

/** A node's persisted log as "index:term" strings, handy for comparing logs. */
export function logOf(cluster: TestCluster, id: string): string[] {
  return cluster.node(id).storage.entries.map((e) => `${e.index}:${e.term}`);
}

/** Ticks the cluster one tick at a time until `done` holds; returns the ticks used. */
export function tickUntil(cluster: TestCluster, done: () => boolean, maxTicks = 200): number {
  for (let n = 1; n <= maxTicks; n++) {
    cluster.tick();
    if (done()) return n;
  }
  throw new Error(`condition not reached within ${maxTicks} ticks`);
}

/** Messages delivered since `mark` (an index into `cluster.delivered`). */
export function deliveredSince(cluster: TestCluster, mark: number): Message[] {
  return cluster.delivered.slice(mark);
}
