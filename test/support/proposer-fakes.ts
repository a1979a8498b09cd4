/**
 * A Proposer (src/node/proposer.ts) on fakes: a clock whose time moves only when the test says,
 * a transport whose forwards the test answers one by one, a core that answers proposals from a
 * script, and a leader the test changes. Everything settles through promises, so after
 * {@link flush} the test sees exactly what the proposer did, without sleeping.
 */
import type { ProposeResult } from '../../src/core/leader.js';
import type { RaftCore } from '../../src/core/raft.js';
import type { Entry, NodeId, Role } from '../../src/core/types.js';
import { RaftError, type RaftErrorCode } from '../../src/errors.js';
import { PendingProposals } from '../../src/node/pending.js';
import { Proposer, type ProposerContext } from '../../src/node/proposer.js';
import type { ForwardRequest, ForwardResponse, Transport, WireError } from '../../src/transport/types.js';
import { manualClock } from './manual-clock.js';
import type { Gate } from './promises.js';

export { flush, manualClock, track } from './manual-clock.js';

/** One `Transport.forward` call as the proposer made it; the test answers or fails it. */
export interface ForwardCall {
  readonly to: NodeId | null;
  readonly request: ForwardRequest;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** What the call rejects with when its signal aborts, as a real transport does (indefinite). */
  readonly abortError: RaftError;
  answer(response: ForwardResponse): void;
  fail(err: unknown): void;
}

function fakeTransport(calls: ForwardCall[]): Transport {
  const forward: Transport['forward'] = (to, request, options) =>
    new Promise((answer, fail) => {
      const abortError = new RaftError('TIMEOUT', 'forward: aborted', { retryable: true, indefinite: true });
      calls.push({
        to,
        request,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        abortError,
        answer,
        fail,
      });
      options.signal?.addEventListener('abort', () => fail(abortError));
    });
  const unused = () => Promise.reject(new Error('not used by the proposer'));
  return { localId: 'a', start: unused, send: () => undefined, sendSnapshot: unused, forward, close: unused };
}

/** An error as a leader answers it. */
export function wire(code: RaftErrorCode, flags: Partial<WireError> = {}): ForwardResponse {
  return {
    ok: false,
    error: { code, message: `${code} there`, retryable: true, indefinite: false, leader: null, ...flags },
  };
}

export const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'command',
  data: new Uint8Array(),
});

export interface Setup {
  readonly forwardToLeader?: boolean;
  readonly role?: Role;
  readonly leader?: NodeId | null;
}

/**
 * Node 'a' with incarnation 'inc': calls time out after 5000 ms by default, idempotent forwards
 * are re-sent after 1000 ms, forwarded requests wait 30000 ms. The core accepts every proposal at
 * the next index in term 7 unless `results` says otherwise; `before` holds the loop's tasks before
 * they run, `after` holds the loop's answer after the task ran.
 */
export function proposerOn(setup: Setup = {}) {
  const clock = manualClock();
  const calls: ForwardCall[] = [];
  const proposed: unknown[][] = [];
  const results: ProposeResult[] = [];
  const pauses: number[] = [];
  const listeners = new Set<(leader: NodeId | null) => void>();
  const state = { role: setup.role ?? 'follower', leader: setup.leader === undefined ? 'b' : setup.leader };
  const held: { before: Gate | null; after: Gate | null } = { before: null, after: null };
  const answer = (): ProposeResult => results.shift() ?? { accepted: true, index: proposed.length, term: 7 };
  const core = {
    propose: (...args: unknown[]) => {
      proposed.push(['propose', ...args]);
      return answer();
    },
    proposeConfChange: (change: unknown) => {
      proposed.push(['conf', change]);
      return answer();
    },
  } as unknown as RaftCore;
  const proposals = new PendingProposals();
  const ctx: ProposerContext = {
    id: 'a',
    clock,
    incarnation: 'inc',
    forwardToLeader: setup.forwardToLeader ?? true,
    role: () => state.role,
    leader: () => state.leader,
    transport: fakeTransport(calls),
    run: async (task) => {
      await held.before?.promise;
      const result = task(core);
      await held.after?.promise;
      return result;
    },
    proposals,
    retry: {
      timeoutMs: 5000,
      minDelayMs: 10,
      maxDelayMs: 40,
      pause: async (ms) => void pauses.push(ms),
      clock,
    },
    forwardedTimeoutMs: 30_000,
    resendAfterMs: 1000,
    onLeaderChange: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return {
    proposer: new Proposer(ctx),
    clock,
    calls,
    proposed,
    results,
    pauses,
    listeners,
    proposals,
    state,
    held,
    /** The leader known here changes, as the node's leader watch reports it. */
    leaderChange(leader: NodeId | null) {
      state.leader = leader;
      for (const listener of [...listeners]) listener(leader);
    },
    /** The `i`th forward; throws when the proposer has not made it. */
    call(i: number): ForwardCall {
      const c = calls[i];
      if (c === undefined) throw new Error(`no forward #${i}; ${calls.length} made`);
      return c;
    },
  };
}

/** The forwards made so far as [target, seq, timeoutMs]. */
export const sent = (calls: readonly ForwardCall[]) => calls.map((c) => [c.to, c.request.seq, c.timeoutMs]);
