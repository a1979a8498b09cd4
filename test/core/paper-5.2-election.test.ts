/**
 * Raft paper §5.2 "Leader election", plus the election-related refinements of the Raft thesis
 * (pre-vote §9.6, check-quorum and the leader lease §6.2 / §4.2.3) and the election restriction of
 * §5.4.1. In the etcd style, each test focuses on a few sentences of the paper, quoted or cited
 * above it.
 */
import { describe, expect, it } from 'vitest';
import type { Message, RaftCore } from '../../src/core/index.js';
import { TestCluster } from '../support/cluster.js';
import {
  appendRequest,
  deliveredSince,
  drain,
  heartbeatRequest,
  logOf,
  must,
  newCore,
  ofType,
  sent,
  tickUntil,
  voteRequest,
  voteResponse,
} from './helpers.js';

const noPreVote = { preVote: false, checkQuorum: false } as const;

/** Ticks a lone core (draining every Ready) until `done`; returns the number of ticks. */
function tickCoreUntil(core: RaftCore, done: () => boolean, max = 1000): number {
  for (let n = 1; n <= max; n++) {
    core.tick();
    drain(core);
    if (done()) return n;
  }
  throw new Error(`condition not reached within ${max} ticks`);
}

describe('§5.2 Leader election', () => {
  // §5.2: "When servers start up, they begin as followers." Figure 2: currentTerm and votedFor
  // are persistent state, so a server starts from the term and vote on stable storage.
  it('a server starts as a follower with the term and vote from storage', () => {
    const core = newCore('a', ['a', 'b', 'c'], { hardState: { term: 5, vote: 'b', commit: 0 } });
    expect(core.role).toBe('follower');
    expect(core.term).toBe(5);
    expect(core.leader).toBeNull();
    expect(core.status().vote).toBe('b');

    const fresh = newCore('a', ['a', 'b', 'c']);
    expect(fresh.role).toBe('follower');
    expect(fresh.term).toBe(0);
    expect(fresh.status().vote).toBeNull();
  });

  // §5.2: "A server remains in follower state as long as it receives valid RPCs from a leader or
  // candidate."
  it('a follower that keeps hearing from a leader never starts an election', () => {
    const core = newCore('b', ['a', 'b', 'c']);
    for (let i = 0; i < 100; i++) {
      core.step(heartbeatRequest('a', 'b', 1));
      core.tick();
      drain(core);
    }
    expect(core.role).toBe('follower');
    expect(core.term).toBe(1);
    expect(core.leader).toBe('a');
  });

  // §5.2: "If a follower receives no communication over a period of time called the election
  // timeout, then it assumes there is no viable leader and begins an election." Thesis §9.6: with
  // pre-vote, it first asks whether it could win, without changing its term.
  it('on election timeout a follower becomes a pre-candidate and asks every voter, keeping its term', () => {
    const config = {
      servers: [
        { id: 'a', suffrage: 'voter' as const },
        { id: 'b', suffrage: 'voter' as const },
        { id: 'c', suffrage: 'voter' as const },
        { id: 'n', suffrage: 'nonvoter' as const },
      ],
    };
    const core = newCore('a', config, {
      hardState: { term: 3, vote: null, commit: 1 },
      entries: [{ index: 1, term: 2, type: 'noop', data: new Uint8Array() }],
    });
    let ready = drain(core);
    for (let i = 0; i < 30 && core.role === 'follower'; i++) {
      core.tick();
      ready = drain(core);
    }
    expect(core.role).toBe('preCandidate');
    expect(core.term).toBe(3);
    expect(core.status().vote).toBeNull();
    // Nothing to persist: a pre-vote changes neither term nor vote.
    expect(ready.hardState).toBeNull();
    const requests = ofType(ready.messages, 'voteRequest');
    expect(requests.map((m) => m.to).sort()).toEqual(['b', 'c']);
    for (const m of requests) {
      expect(m).toMatchObject({ preVote: true, term: 4, lastLogIndex: 1, lastLogTerm: 2, transfer: false });
    }
  });

  // §5.2: "To begin an election, a follower increments its current term and transitions to
  // candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of
  // the other servers in the cluster."
  it('after winning the pre-vote, the candidate increments its term, votes for itself and requests votes', () => {
    const core = newCore('a', ['a', 'b', 'c']);
    core.campaign();
    drain(core);
    expect(core.role).toBe('preCandidate');
    core.step(voteResponse('b', 'a', 1, true, true));
    expect(core.role).toBe('candidate');
    expect(core.term).toBe(1);
    const ready = drain(core);
    expect(ready.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    const requests = ofType(ready.messages, 'voteRequest');
    expect(requests.map((m) => m.to).sort()).toEqual(['b', 'c']);
    for (const m of requests) expect(m).toMatchObject({ preVote: false, term: 1, from: 'a' });
  });

  it('without pre-vote, the election timeout makes a follower a candidate directly', () => {
    const core = newCore('a', ['a', 'b', 'c'], { options: noPreVote });
    const ticks = tickCoreUntil(core, () => core.role !== 'follower');
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(core.role).toBe('candidate');
    expect(core.term).toBe(1);
    expect(core.status().vote).toBe('a');
  });

  // §5.2: "A candidate wins an election if it receives votes from a majority of the servers in
  // the full cluster for the same term. [...] Once a candidate wins an election, it becomes
  // leader. It then sends heartbeat messages to all of the other servers to establish its
  // authority and prevent new elections."
  it('a candidate with votes from a majority becomes leader and sends AppendEntries to every peer', () => {
    const peers = ['b', 'c', 'd', 'e'];
    const core = newCore('a', ['a', ...peers], { options: noPreVote });
    core.campaign();
    drain(core);
    core.step(voteResponse('b', 'a', 1, true));
    expect(core.role).toBe('candidate');
    core.step(voteResponse('c', 'a', 1, false));
    expect(core.role).toBe('candidate');
    core.step(voteResponse('d', 'a', 1, true));
    expect(core.role).toBe('leader');
    expect(core.leader).toBe('a');
    const ready = drain(core);
    expect(ready.softState).toEqual({ role: 'leader', leader: 'a' });
    const appends = ofType(sent(ready), 'appendRequest');
    expect(appends.map((m) => m.to).sort()).toEqual(peers);
    for (const m of appends) expect(m.term).toBe(1);

    // ...and keeps asserting its authority with heartbeats.
    core.tick();
    const heartbeats = ofType(sent(drain(core)), 'heartbeatRequest');
    expect(heartbeats.map((m) => m.to).sort()).toEqual(peers);
  });

  it('a single-voter cluster elects itself at once', () => {
    const core = newCore('a', ['a']);
    core.campaign();
    expect(core.role).toBe('leader');
    expect(core.term).toBe(1);
  });

  it('a candidate rejected by a majority returns to follower in the same term', () => {
    const core = newCore('a', ['a', 'b', 'c'], { options: noPreVote });
    core.campaign();
    drain(core);
    core.step(voteResponse('b', 'a', 1, false));
    expect(core.role).toBe('candidate');
    core.step(voteResponse('c', 'a', 1, false));
    expect(core.role).toBe('follower');
    expect(core.term).toBe(1);
  });

  // §5.2: "While waiting for votes, a candidate may receive an AppendEntries RPC from another
  // server claiming to be leader. If the leader's term [...] is at least as large as the
  // candidate's current term, then the candidate recognizes the leader as legitimate and returns
  // to follower state. If the term in the RPC is smaller than the candidate's current term, then
  // the candidate rejects the RPC and continues in candidate state."
  describe('a candidate that hears from a leader', () => {
    it('of the same term steps down and follows it', () => {
      const core = newCore('a', ['a', 'b', 'c'], { options: noPreVote });
      core.campaign();
      drain(core);
      core.step(appendRequest('b', 'a', 1));
      expect(core.role).toBe('follower');
      expect(core.term).toBe(1);
      expect(core.leader).toBe('b');
      const answers = ofType(drain(core).messages, 'appendResponse');
      expect(answers).toEqual([expect.objectContaining({ to: 'b', success: true, term: 1 })]);
    });

    it('of a higher term steps down and adopts the term', () => {
      const core = newCore('a', ['a', 'b', 'c'], { options: noPreVote });
      core.campaign();
      drain(core);
      core.step(heartbeatRequest('c', 'a', 4));
      expect(core.role).toBe('follower');
      expect(core.term).toBe(4);
      expect(core.leader).toBe('c');
    });

    it('of a lower term rejects it and stays a candidate', () => {
      const core = newCore('a', ['a', 'b', 'c'], {
        options: noPreVote,
        hardState: { term: 5, vote: null, commit: 0 },
      });
      core.campaign();
      drain(core);
      core.step(appendRequest('b', 'a', 3));
      expect(core.role).toBe('candidate');
      expect(core.term).toBe(6);
      const answers = ofType(drain(core).messages, 'appendResponse');
      expect(answers).toEqual([expect.objectContaining({ to: 'b', success: false, term: 6 })]);
    });

    it('applies to a pre-candidate too', () => {
      const core = newCore('a', ['a', 'b', 'c'], { hardState: { term: 2, vote: null, commit: 0 } });
      core.campaign();
      drain(core);
      expect(core.role).toBe('preCandidate');
      core.step(heartbeatRequest('b', 'a', 2));
      expect(core.role).toBe('follower');
      expect(core.leader).toBe('b');
      expect(core.term).toBe(2);
    });
  });

  // §5.2: "The third possible outcome is that a candidate neither wins nor loses the election: if
  // many followers become candidates at the same time, votes could be split so that no
  // candidate obtains a majority. When this happens, each candidate will time out and start a
  // new election by incrementing its term and initiating another round of RequestVote RPCs."
  it('after a split vote, a new election in a higher term elects a leader', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd'], noPreVote);
    const heal = c.partition(['a', 'b'], ['c', 'd']);
    c.core('a').campaign();
    c.core('c').campaign();
    c.stabilize();
    heal();
    // Term 1: a has the votes of a and b, c those of c and d; neither has 3 of 4.
    expect(c.leader()).toBeNull();
    for (const id of ['a', 'b', 'c', 'd']) expect(c.core(id).term).toBe(1);
    expect(c.core('a').role).toBe('candidate');
    expect(c.core('c').role).toBe('candidate');
    expect(c.core('b').status().vote).toBe('a');
    expect(c.core('d').status().vote).toBe('c');

    tickUntil(c, () => c.leader() !== null, 100);
    const leader = c.core(must(c.leader()));
    expect(leader.term).toBeGreaterThan(1);
    const leaders = [...c.nodes.values()].filter((n) => n.core.role === 'leader');
    expect(leaders).toHaveLength(1);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(c.core(id).term).toBe(leader.term);
      expect(c.core(id).leader).toBe(leader.id);
    }
  });

  // §5.2: "Each server will vote for at most one candidate in a given term, on a
  // first-come-first-served basis."
  it('a server votes for at most one candidate per term, first come first served', () => {
    const core = newCore('x', ['a', 'b', 'x']);
    core.step(voteRequest('a', 'x', 1));
    let ready = drain(core);
    expect(ready.hardState).toEqual({ term: 1, vote: 'a', commit: 0 });
    expect(ofType(ready.messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'a', granted: true, term: 1 }),
    ]);

    core.step(voteRequest('b', 'x', 1));
    ready = drain(core);
    expect(ofType(ready.messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'b', granted: false, term: 1 }),
    ]);
    expect(core.status().vote).toBe('a');

    // Answering the same candidate again (a retransmission) repeats the grant.
    core.step(voteRequest('a', 'x', 1));
    expect(ofType(drain(core).messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'a', granted: true }),
    ]);

    // A new term is a new vote.
    core.step(voteRequest('b', 'x', 2));
    ready = drain(core);
    expect(ready.hardState).toEqual({ term: 2, vote: 'b', commit: 0 });
    expect(ofType(ready.messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'b', granted: true, term: 2 }),
    ]);
  });

  it('a candidate does not vote for a rival in its own term', () => {
    const core = newCore('a', ['a', 'b', 'c'], { options: noPreVote });
    core.campaign();
    drain(core);
    core.step(voteRequest('b', 'a', 1));
    expect(ofType(drain(core).messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'b', granted: false }),
    ]);
    expect(core.role).toBe('candidate');
    expect(core.status().vote).toBe('a');
  });

  // §5.2: "Raft uses randomized election timeouts [...] election timeouts are chosen randomly
  // from a fixed interval (e.g., 150–300ms)." Here the interval is [electionTicks, 2 ×
  // electionTicks).
  it('election timeouts are drawn at random from [electionTicks, 2 × electionTicks)', () => {
    for (const electionTicks of [10, 5]) {
      const seen = new Set<number>();
      for (let seed = 1; seed <= 12; seed++) {
        // Alone and without pre-vote, every timeout starts a new election and bumps the term.
        const core = newCore('a', ['a', 'b', 'c'], { options: { ...noPreVote, electionTicks }, seed });
        for (let round = 1; round <= 4; round++) {
          const ticks = tickCoreUntil(core, () => core.term === round);
          expect(core.role).toBe('candidate');
          expect(ticks).toBeGreaterThanOrEqual(electionTicks);
          expect(ticks).toBeLessThan(2 * electionTicks);
          seen.add(ticks);
        }
      }
      // Randomized: many different timeouts, not a constant.
      expect(seen.size).toBeGreaterThan(electionTicks / 2);
    }
  });

  it('servers with different seeds time out at different moments', () => {
    const timeouts = new Set<number>();
    for (let seed = 1; seed <= 8; seed++) {
      const core = newCore('a', ['a', 'b', 'c'], { options: noPreVote, seed });
      timeouts.add(tickCoreUntil(core, () => core.term === 1));
    }
    expect(timeouts.size).toBeGreaterThan(1);
  });
});

// §5.4.1: "Raft uses the voting process to prevent a candidate from winning an election unless
// its log contains all committed entries. [...] If the voter's own log is more up-to-date than
// that of the candidate, the voter denies its vote."
describe('§5.4.1 Election restriction', () => {
  it('a candidate missing a committed entry cannot win; an up-to-date one can', () => {
    const c = new TestCluster(['a', 'b', 'c'], noPreVote);
    expect(c.elect('a')).toBe('a');
    const cutC = c.isolate('c');
    expect(c.propose('a', 'x').accepted).toBe(true);
    expect(c.core('b').status().commitIndex).toBe(2);
    expect(c.core('c').status().lastIndex).toBe(1);
    cutC();
    c.isolate('a');

    // c's log (last term 1, index 1) is behind b's (last term 1, index 2).
    c.core('c').campaign();
    c.stabilize();
    expect(c.core('c').role).toBe('candidate');
    expect(c.core('b').role).toBe('follower');
    expect(c.core('b').term).toBe(c.core('c').term);
    expect(c.core('b').status().vote).toBeNull();
    const answers = ofType(c.delivered, 'voteResponse').filter((m) => m.from === 'b' && m.to === 'c');
    expect(answers.at(-1)).toMatchObject({ granted: false });

    expect(c.elect('b')).toBe('b');
    expect(c.core('c').leader).toBe('b');
    expect(logOf(c, 'c').slice(0, 2)).toEqual(logOf(c, 'b').slice(0, 2));
  });

  it('with pre-vote, a stale server does not even get to raise its term', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    expect(c.elect('a')).toBe('a');
    const cutC = c.isolate('c');
    c.propose('a', 'x');
    cutC();
    c.isolate('a');
    c.core('c').campaign();
    c.stabilize();
    // b refuses the pre-vote, so c never becomes a candidate and nobody's term moves.
    expect(c.core('c').role).toBe('preCandidate');
    expect(c.core('c').term).toBe(1);
    expect(c.core('b').term).toBe(1);
    expect(ofType(c.delivered, 'voteResponse').filter((m) => m.from === 'b' && m.to === 'c')).toEqual([
      expect.objectContaining({ preVote: true, granted: false }),
    ]);
  });
});

// Thesis §9.6 (pre-vote): "a candidate would first ask other servers whether its log was
// up-to-date enough to get their vote. Only if the candidate believed it could get votes from a
// majority of the cluster would it increment its term and start a normal election. [...] when it
// rejoins the cluster, it still won't be able to increment its term, since the other servers
// will have been receiving regular heartbeats from the leader."
describe('thesis §9.6 Pre-vote', () => {
  it('an isolated server that rejoins does not raise the cluster term or disrupt the leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    const fromC: Message[] = [];
    c.filter((m) => {
      if (m.from === 'c') fromC.push(m);
      return true;
    });
    const heal = c.isolate('c');
    c.tick(60);
    // Isolated, c campaigns again and again, but only in pre-vote rounds.
    const campaigns = ofType(fromC, 'voteRequest');
    expect(campaigns.length).toBeGreaterThan(0);
    expect(campaigns.every((m) => m.preVote && m.term === 2)).toBe(true);
    expect(c.core('c').term).toBe(1);
    expect(c.core('a').role).toBe('leader');

    heal();
    c.tick(60);
    expect(c.leader()).toBe('a');
    for (const id of ['a', 'b', 'c']) {
      expect(c.core(id).term).toBe(1);
      expect(c.core(id).leader).toBe('a');
    }
  });

  it('a rejoining server whose election timer fires before it hears the leader does not disrupt it', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    const heal = c.isolate('c');
    c.tick(60);
    expect(c.core('c').role).toBe('preCandidate');
    heal();
    const mark = c.delivered.length;
    // The partition heals just as c's timer fires, before any heartbeat from a reaches it. a is
    // a healthy leader in contact with b, so the cluster must keep it and its term.
    c.core('c').campaign();
    c.stabilize();
    expect(c.leader()).toBe('a');
    expect(c.core('a').role).toBe('leader');
    for (const id of ['a', 'b', 'c']) expect(c.core(id).term).toBe(1);
    const grants = ofType(deliveredSince(c, mark), 'voteResponse').filter((m) => m.granted);
    expect(grants).toEqual([]);
  });

  it('a server that cannot reach a majority never increments its term', () => {
    const core = newCore('a', ['a', 'b', 'c']);
    for (let i = 0; i < 200; i++) {
      core.tick();
      drain(core);
    }
    expect(core.term).toBe(0);
    expect(core.role).toBe('preCandidate');
  });
});

// Thesis §6.2: "a leader steps down if an election timeout elapses without a successful round of
// heartbeats to a majority of its cluster; this allows clients to retry their requests with
// another server."
describe('thesis §6.2 Check-quorum', () => {
  it('a leader isolated from the majority steps down within about two election timeouts', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.tick(25);
    expect(c.core('a').role).toBe('leader');
    c.isolate('a');
    const ticks = tickUntil(c, () => c.core('a').role !== 'leader', 100);
    expect(ticks).toBeLessThanOrEqual(2 * 10);
    expect(c.core('a').role).not.toBe('leader');
    expect(c.core('a').leader).toBeNull();
    // The majority elects a new leader in a new term meanwhile or soon after.
    tickUntil(c, () => c.leader() !== null && c.leader() !== 'a', 100);
    expect(c.core(must(c.leader())).term).toBeGreaterThan(1);
  });

  it('a leader that still hears from a majority keeps leading', () => {
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e']);
    expect(c.elect('a')).toBe('a');
    c.isolate('d');
    c.isolate('e');
    c.tick(100);
    expect(c.core('a').role).toBe('leader');
    expect(c.core('a').term).toBe(1);
  });

  it('without check-quorum an isolated leader stays leader', () => {
    const c = new TestCluster(['a', 'b', 'c'], { checkQuorum: false });
    expect(c.elect('a')).toBe('a');
    c.isolate('a');
    c.tick(100);
    expect(c.core('a').role).toBe('leader');
  });
});

// Thesis §4.2.3: "if a server receives a RequestVote request within the minimum election timeout
// of hearing from a current leader, it does not update its term or grant its vote. [...] if a
// leader is able to get heartbeats to its cluster, then it will not be deposed by larger term
// numbers."
describe('thesis §4.2.3 Leader lease: disruptive servers', () => {
  it('a follower that recently heard from the leader ignores vote requests', () => {
    const core = newCore('b', ['a', 'b', 'c']);
    core.step(heartbeatRequest('a', 'b', 1));
    drain(core);
    for (const preVote of [false, true]) {
      core.step(voteRequest('c', 'b', 2, { preVote, lastLogIndex: 10, lastLogTerm: 1 }));
      const ready = drain(core);
      expect(ready.messages).toEqual([]);
      expect(ready.hardState).toBeNull();
      expect(core.term).toBe(1);
      expect(core.leader).toBe('a');
    }
    // Still within the lease after electionTicks - 1 silent ticks.
    for (let i = 0; i < 9; i++) {
      core.tick();
      drain(core);
    }
    core.step(voteRequest('c', 'b', 2, { lastLogIndex: 10, lastLogTerm: 1 }));
    expect(ofType(drain(core).messages, 'voteResponse')).toEqual([]);
    expect(core.term).toBe(1);
  });

  it('a follower grants a vote once the lease has expired', () => {
    const core = newCore('b', ['a', 'b', 'c']);
    core.step(heartbeatRequest('a', 'b', 1));
    drain(core);
    for (let i = 0; i < 10; i++) {
      core.tick();
      drain(core);
    }
    core.step(voteRequest('c', 'b', 2, { lastLogIndex: 10, lastLogTerm: 1 }));
    expect(ofType(drain(core).messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'c', granted: true, term: 2 }),
    ]);
    expect(core.term).toBe(2);
  });

  it('without check-quorum there is no lease', () => {
    const core = newCore('b', ['a', 'b', 'c'], { options: { checkQuorum: false } });
    core.step(heartbeatRequest('a', 'b', 1));
    drain(core);
    core.step(voteRequest('c', 'b', 2, { lastLogIndex: 10, lastLogTerm: 1 }));
    expect(ofType(drain(core).messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'c', granted: true }),
    ]);
  });

  it('a leadership transfer overrides the lease', () => {
    const core = newCore('b', ['a', 'b', 'c']);
    core.step(heartbeatRequest('a', 'b', 1));
    drain(core);
    core.step(voteRequest('c', 'b', 2, { lastLogIndex: 10, lastLogTerm: 1, transfer: true }));
    expect(ofType(drain(core).messages, 'voteResponse')).toEqual([
      expect.objectContaining({ to: 'c', granted: true }),
    ]);
  });

  it('a vote request with a higher term from a removed server does not depose a healthy leader', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    c.propose('a', 'x');
    c.tick(3);
    // 'z' was removed from the configuration: nobody sends it heartbeats any more, so its timer
    // fires and it campaigns in ever higher terms with its (up-to-date) log.
    for (const to of ['a', 'b', 'c']) {
      c.send(voteRequest('z', to, 9, { lastLogIndex: 2, lastLogTerm: 1 }));
    }
    c.tick(3);
    expect(c.leader()).toBe('a');
    expect(c.core('a').role).toBe('leader');
    for (const id of ['a', 'b', 'c']) {
      expect(c.core(id).term).toBe(1);
      expect(c.core(id).status().vote).not.toBe('z');
    }
  });

  it('a higher-term vote request from a partitioned server does not depose a healthy leader', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false });
    expect(c.elect('a')).toBe('a');
    c.tick(3);
    // c cannot hear anyone (a one-way partition), so it times out and campaigns, without pre-vote,
    // in ever higher terms. Its vote requests do reach a and b.
    c.filter((m) => m.to !== 'c');
    tickUntil(c, () => c.core('c').role === 'candidate', 100);
    expect(c.core('c').term).toBeGreaterThan(1);
    c.tick(3);
    expect(c.core('a').role).toBe('leader');
    expect(c.core('a').term).toBe(1);
    expect(c.core('b').term).toBe(1);
    expect(c.core('b').leader).toBe('a');
  });
});
