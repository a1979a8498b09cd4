import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/core/types.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { heartbeat } from '../support/messages.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { waitFor } from '../support/wait.js';
import { flushMicrotasks, startNetwork } from './inmem-net.js';

describe('InmemTransport lifecycle', () => {
  it('never delivers inside send', async () => {
    const net = await startNetwork(['a', 'b']);
    net.transport('a').send(heartbeat('a', 'b', 1));
    expect(net.handler('b').messages).toEqual([]);
    await waitFor(() => net.handler('b').messages.length === 1, 1000, 'the message');
    expect(net.network.stats).toMatchObject({ sent: 1, delivered: 1, dropped: 0 });
  });

  it('drops messages to an unstarted node and from an unstarted one', async () => {
    const net = await startNetwork(['a']);
    const idle = net.network.transport('idle');
    net.transport('a').send(heartbeat('a', 'idle'));
    idle.send(heartbeat('idle', 'a'));
    await flushMicrotasks();
    expect(net.handler('a').messages).toEqual([]);
    expect(net.network.stats.dropReasons).toMatchObject({ noRoute: 1, senderDown: 1 });
  });

  it('drops messages in flight to a node that closes', async () => {
    const net = await startNetwork(['a', 'b']);
    net.transport('a').send(heartbeat('a', 'b', 1));
    await net.transport('b').close();
    await flushMicrotasks();
    expect(net.handler('b').messages).toEqual([]);
    expect(net.network.stats.dropReasons.noRoute).toBe(1);
  });

  it('drops sends after close without throwing, and closing twice is fine', async () => {
    const net = await startNetwork(['a', 'b']);
    await net.transport('a').close();
    await net.transport('a').close();
    expect(() => net.transport('a').send(heartbeat('a', 'b'))).not.toThrow();
    await flushMicrotasks();
    expect(net.handler('b').messages).toEqual([]);
    expect(net.network.stats.dropReasons.senderDown).toBe(1);
  });

  it('returns the same transport for an id until it closes, then a fresh one (a restart)', async () => {
    const network = new InmemNetwork();
    const first = network.transport('a');
    expect(network.transport('a')).toBe(first);
    const oldHandler = new RecordingHandler();
    await first.start(oldHandler);
    await first.close();
    const second = network.transport('a');
    expect(second).not.toBe(first);
    const newHandler = new RecordingHandler();
    await second.start(newHandler);
    const sender = network.transport('b');
    await sender.start(new RecordingHandler());
    sender.send(heartbeat('b', 'a', 1));
    await waitFor(() => newHandler.messages.length === 1, 1000, 'the restarted node to receive');
    expect(oldHandler.messages).toEqual([]);
  });

  it('refuses a second start, and a start after close', async () => {
    const network = new InmemNetwork();
    const t = network.transport('a');
    await t.start(new RecordingHandler());
    await expect(t.start(new RecordingHandler())).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await t.close();
    await expect(t.start(new RecordingHandler())).rejects.toMatchObject({ code: 'SHUTDOWN' });
  });

  it('contains a handler that throws, counts it and reports it', async () => {
    const reported: Array<{ error: unknown; message: Message }> = [];
    const network = new InmemNetwork({
      onHandlerError: (error, message) => reported.push({ error, message }),
    });
    const b = network.transport('b');
    let calls = 0;
    await b.start({
      onMessage: () => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
      },
      onSnapshot: async () => undefined,
      onForward: (request, from) => new RecordingHandler().onForward(request, from),
    });
    const a = network.transport('a');
    await a.start(new RecordingHandler());
    a.send(heartbeat('a', 'b', 1));
    a.send(heartbeat('a', 'b', 2));
    await waitFor(() => calls === 2, 1000, 'both messages to reach the handler');
    expect(network.stats.handlerErrors).toBe(1);
    expect(reported).toEqual([{ error: new Error('handler bug'), message: heartbeat('a', 'b', 1) }]);
  });

  it('drops a message that cannot be cloned instead of throwing', async () => {
    const net = await startNetwork(['a', 'b']);
    const odd = { ...heartbeat('a', 'b'), callback: () => undefined } as unknown as Message;
    expect(() => net.transport('a').send(odd)).not.toThrow();
    await flushMicrotasks();
    expect(net.handler('b').messages).toEqual([]);
    expect(net.network.stats.dropReasons.uncloneable).toBe(1);
  });
});
