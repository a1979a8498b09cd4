import { afterEach, describe, expect, it } from 'vitest';
import type { Message, VoteRequest } from '../../src/core/types.js';
import { Raft } from '../../src/index.js';
import { MemoryStore } from '../../src/storage/index.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { KvFsm } from '../support/kv-fsm.js';
import { FAST } from '../support/node-cluster.js';
import { waitFor } from '../support/wait.js';

const running: Raft[] = [];

afterEach(async () => {
  for (const r of running.splice(0)) await r.shutdown();
});

const voteRequest = (term: number): VoteRequest => ({
  type: 'voteRequest',
  from: 'p',
  to: 'fresh',
  term,
  preVote: false,
  lastLogIndex: 10,
  lastLogTerm: 3,
  transfer: false,
});

describe('a node started deaf (listening: false)', () => {
  it('neither votes nor answers its peers until listen(), then takes part', async () => {
    const network = new InmemNetwork();
    const raft = await Raft.start({
      config: { ...FAST, localId: 'fresh' },
      fsm: new KvFsm(),
      storage: new MemoryStore(),
      transport: network.transport('fresh'),
      listening: false,
    });
    running.push(raft);
    const answers: Message[] = [];
    const peer = network.transport('p');
    await peer.start({
      onMessage: (m) => answers.push(m),
      onSnapshot: async () => undefined,
      onForward: async () => ({ ok: true, index: 0 }),
    });
    // A wiped server the group still lists would grant this vote with its empty log.
    peer.send(voteRequest(5));
    await waitFor(() => network.stats.delivered === 1, 2000, 'the first request to be delivered');
    raft.listen();
    peer.send(voteRequest(6));
    await waitFor(() => answers.length > 0, 2000, 'an answer');
    expect(answers).toEqual([expect.objectContaining({ type: 'voteResponse', term: 6, granted: true })]);
  });
});
