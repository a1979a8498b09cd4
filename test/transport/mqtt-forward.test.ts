import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isRaftError, RaftError } from '../../src/errors.js';
import { MqttTransport } from '../../src/transport/index.js';
import type { ForwardRequest } from '../../src/transport/types.js';
import { rejectionOf } from '../support/promises.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { BROKER_KINDS, closedAfterEach, useBroker } from '../support/test-broker.js';

const WAIT_MS = 5000;

describe.each(BROKER_KINDS)('MqttTransport: forwarding (%s)', (kind) => {
  const broker = useBroker(kind);
  let clusters = 0;
  const open = closedAfterEach<MqttTransport>();

  async function nodes(...ids: string[]) {
    const cluster = `forward-${++clusters}`;
    const made = new Map<string, { transport: MqttTransport; handler: RecordingHandler }>();
    for (const localId of ids) {
      const transport = new MqttTransport({ localId, url: broker.url, cluster, closeGraceMs: 200 });
      const handler = new RecordingHandler();
      open.push(transport);
      await transport.start(handler);
      made.set(localId, { transport, handler });
    }
    return (id: string) => {
      const n = made.get(id);
      if (n === undefined) throw new Error(`no node ${id}`);
      return n;
    };
  }

  const barrier: ForwardRequest = { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: 1 };

  it('rejects with a definite TIMEOUT and sends nothing when the signal is already aborted', async () => {
    const n = await nodes('a', 'b');
    const err = await rejectionOf(
      n('a').transport.forward('b', barrier, { timeoutMs: WAIT_MS, signal: AbortSignal.abort() }),
    );
    expect(isRaftError(err, 'TIMEOUT')).toBe(true);
    expect((err as RaftError).indefinite).toBe(false);
    expect(n('a').transport.stats.forwardsSent).toBe(0);
  });

  it('answers a handler that throws with an indefinite UNREACHABLE', async () => {
    const n = await nodes('a', 'b');
    n('b').handler.onForwardBehavior = () => {
      throw new Error('bug in the node');
    };
    const answer = await n('a').transport.forward('b', barrier, { timeoutMs: WAIT_MS });
    expect(answer.ok).toBe(false);
    if (!answer.ok) {
      expect(answer.error.code).toBe('UNREACHABLE');
      expect(answer.error.indefinite).toBe(true);
      expect(answer.error.message).toContain('bug in the node');
    }
    expect(n('b').transport.stats.handlerErrors).toBe(1);
  });

  it('keeps a RaftError from the handler as its wire form', async () => {
    const n = await nodes('a', 'b');
    n('b').handler.onForwardBehavior = () => Promise.reject(new RaftError('LEADERSHIP_LOST', 'stepped down'));
    const answer = await n('a').transport.forward('b', barrier, { timeoutMs: WAIT_MS });
    expect(answer).toEqual({
      ok: false,
      error: {
        code: 'LEADERSHIP_LOST',
        message: 'stepped down',
        retryable: false,
        indefinite: false,
        leader: null,
      },
    });
  });

  it('turns an answer msgpack cannot carry into an indefinite error instead of silence', async () => {
    const n = await nodes('a', 'b');
    n('b').handler.onForwardBehavior = async () => ({ ok: true, index: 3, response: () => 'a function' });
    const answer = await n('a').transport.forward('b', barrier, { timeoutMs: WAIT_MS });
    // The operation ran: the sender must learn that its outcome is unknown, not that it failed.
    expect(answer).toEqual({
      ok: false,
      error: {
        code: 'UNREACHABLE',
        message: expect.stringMatching(/^the answer could not be sent: /),
        retryable: false,
        indefinite: true,
        leader: null,
      },
    });
  });

  it('does not answer its own broadcast', async () => {
    const n = await nodes('a', 'b');
    n('a').handler.onForwardBehavior = async () => ({ ok: true, index: 1 });
    n('b').handler.onForwardBehavior = async () => ({ ok: true, index: 2 });
    await expect(n('a').transport.forward(null, barrier, { timeoutMs: WAIT_MS })).resolves.toEqual({
      ok: true,
      index: 2,
    });
    expect(n('a').handler.forwards).toEqual([]);
  });

  it('names the call in each of its failures, and leaves no listener on the signal', async () => {
    const n = await nodes('a', 'b');
    const aborted = await rejectionOf(
      n('a').transport.forward('b', barrier, { timeoutMs: WAIT_MS, signal: AbortSignal.abort() }),
    );
    expect(aborted).toMatchObject({ code: 'TIMEOUT', message: 'forward barrier from a to b: aborted' });
    const invalid = await rejectionOf(n('a').transport.forward('x/y', barrier, { timeoutMs: WAIT_MS }));
    expect(invalid).toMatchObject({
      code: 'UNREACHABLE',
      message: 'forward barrier from a to x/y: not a valid member id',
      indefinite: false,
    });
    const silent = await rejectionOf(n('a').transport.forward('nobody', barrier, { timeoutMs: 100 }));
    expect(silent).toMatchObject({
      code: 'TIMEOUT',
      message: 'forward barrier from a to nobody: no answer within 100 ms',
      retryable: true,
      indefinite: true,
    });
    const controller = new AbortController();
    const pending = n('a').transport.forward('nobody', barrier, {
      timeoutMs: WAIT_MS,
      signal: controller.signal,
    });
    controller.abort();
    expect(await rejectionOf(pending)).toMatchObject({
      code: 'TIMEOUT',
      message: 'forward barrier from a to nobody: aborted',
      retryable: true,
      indefinite: true,
    });
    const answered = new AbortController();
    n('b').handler.onForwardBehavior = async () => ({ ok: true, index: 4 });
    await n('a').transport.forward('b', barrier, { timeoutMs: WAIT_MS, signal: answered.signal });
    expect(getEventListeners(answered.signal, 'abort')).toHaveLength(0);
  });

  it('on a broadcast, takes an ok answer or a leader hint, and ignores answers that help nobody', async () => {
    const n = await nodes('a', 'b', 'c');
    const notLeader = (leader: string | null) =>
      Promise.reject(new RaftError('NOT_LEADER', 'not the leader', { leader }));
    n('b').handler.onForwardBehavior = () => notLeader(null);
    n('c').handler.onForwardBehavior = () => notLeader('c');
    const hinted = await n('a').transport.forward(null, barrier, { timeoutMs: WAIT_MS });
    expect(hinted).toMatchObject({ ok: false, error: { code: 'NOT_LEADER', leader: 'c' } });
    n('c').handler.onForwardBehavior = () => notLeader(null);
    const unheard = await rejectionOf(n('a').transport.forward(null, barrier, { timeoutMs: 300 }));
    expect(unheard).toMatchObject({
      code: 'TIMEOUT',
      message: 'forward barrier from a to everyone: no answer within 300 ms',
    });
  });

  it('runs many calls concurrently, each settled by its own answer', async () => {
    const n = await nodes('a', 'b', 'c');
    n('b').handler.onForwardBehavior = async (r) => ({ ok: true, index: 1000 + r.seq });
    n('c').handler.onForwardBehavior = async (r) => ({ ok: true, index: 2000 + r.seq });
    const calls = Array.from({ length: 50 }, (_, i) =>
      n('a').transport.forward(
        i % 2 === 0 ? 'b' : 'c',
        { kind: 'barrier', origin: 'a', incarnation: 'i1', seq: i },
        { timeoutMs: WAIT_MS },
      ),
    );
    const answers = await Promise.all(calls);
    expect(answers).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ ok: true, index: (i % 2 === 0 ? 1000 : 2000) + i })),
    );
  });
});
