import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { RaftError } from '../../src/errors.js';
import { deliverForward, type ForwardTarget } from '../../src/transport/inmem-forward.js';
import type { ForwardRequest, ForwardResponse, TransportHandler } from '../../src/transport/types.js';

const barrier: ForwardRequest = { kind: 'barrier' } as unknown as ForwardRequest;
const ok = (index: number): ForwardResponse => ({ ok: true, index });
const notLeader = (leader: string | null): ForwardResponse => ({
  ok: false,
  error: { code: 'NOT_LEADER', message: 'not the leader', retryable: true, indefinite: false, leader },
});

/** A target answering with `answer` (a response, an error to throw, or never). */
function target(id: string, answer: ForwardResponse | Error | 'never', delayMs = 0): ForwardTarget {
  const handler = {
    onForward: async () => {
      if (answer === 'never') return new Promise<ForwardResponse>(() => undefined);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as TransportHandler;
  return { id, handler };
}

async function failure(promise: Promise<unknown>): Promise<RaftError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(RaftError);
  return error as RaftError;
}

const options = (over: { timeoutMs?: number; signal?: AbortSignal } = {}) => ({
  timeoutMs: 1000,
  clock: systemClock,
  ...over,
});

describe('in-memory forwarding', () => {
  it('fails definitely, unsent, when the signal is already aborted', async () => {
    const reason = new Error('caller gave up');
    const error = await failure(
      deliverForward(
        'a',
        [target('b', ok(1))],
        barrier,
        options({ signal: AbortSignal.abort(reason) }),
        false,
      ),
    );
    expect(error).toMatchObject({
      code: 'TIMEOUT',
      message: 'forward from a: aborted before sending',
      indefinite: false,
    });
    expect(error.cause).toBe(reason);
  });

  it('fails retryably, definitely, with nobody to send to', async () => {
    const error = await failure(deliverForward('a', [], barrier, options(), true));
    expect(error).toMatchObject({
      code: 'UNREACHABLE',
      message: 'forward from a: no reachable server',
      retryable: true,
      indefinite: false,
    });
  });

  it('answers with the one target, and reports its failure as indefinite', async () => {
    expect(await deliverForward('a', [target('b', ok(3))], barrier, options(), false)).toEqual(ok(3));
    const thrown = new Error('boom');
    const error = await failure(deliverForward('a', [target('b', thrown)], barrier, options(), false));
    expect(error).toMatchObject({
      code: 'UNREACHABLE',
      message: 'forward from a: the receiver failed',
      retryable: true,
      indefinite: true,
    });
    expect(error.cause).toBe(thrown);
  });

  it('times out indefinitely, and on a later abort too, releasing the signal', async () => {
    const late = await failure(
      deliverForward('a', [target('b', 'never')], barrier, options({ timeoutMs: 20 }), false),
    );
    expect(late).toMatchObject({
      code: 'TIMEOUT',
      message: 'forward from a: no answer within 20 ms',
      retryable: true,
      indefinite: true,
    });
    const controller = new AbortController();
    const pending = deliverForward(
      'a',
      [target('b', 'never')],
      barrier,
      options({ signal: controller.signal }),
      false,
    );
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('stop');
    controller.abort(reason);
    const aborted = await failure(pending);
    expect(aborted).toMatchObject({ code: 'TIMEOUT', message: 'forward from a: aborted', indefinite: true });
    expect(aborted.cause).toBe(reason);
    const answered = new AbortController();
    await deliverForward('a', [target('b', ok(1))], barrier, options({ signal: answered.signal }), false);
    expect(getEventListeners(answered.signal, 'abort')).toHaveLength(0);
  });

  it('on a broadcast, the first ok answer wins over leader hints', async () => {
    const targets = [target('b', notLeader('c')), target('c', ok(7), 5), target('d', notLeader(null))];
    expect(await deliverForward('a', targets, barrier, options(), true)).toEqual(ok(7));
  });

  it('on a broadcast without an ok answer, the first hint that names a leader, once all answered', async () => {
    const targets = [
      target('b', notLeader(null)),
      target('c', notLeader('x'), 5),
      target('d', new Error('down')),
      target('e', notLeader('y'), 10),
    ];
    expect(await deliverForward('a', targets, barrier, options(), true)).toEqual(notLeader('x'));
  });

  it('on a broadcast where nobody names a leader, waits for the deadline', async () => {
    const targets = [target('b', notLeader(null)), target('c', new Error('down'))];
    const error = await failure(deliverForward('a', targets, barrier, options({ timeoutMs: 30 }), true));
    expect(error.message).toBe('forward from a: no answer within 30 ms');
  });

  it('without broadcast, takes the first target only', async () => {
    const targets = [target('b', notLeader('c')), target('c', ok(1))];
    expect(await deliverForward('a', targets, barrier, options(), false)).toEqual(notLeader('c'));
  });
});
