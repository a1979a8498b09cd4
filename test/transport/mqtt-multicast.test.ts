import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HeartbeatRequest } from '../../src/core/types.js';
import { MqttTransport } from '../../src/transport/index.js';
import type { MqttTransportOptions } from '../../src/transport/mqtt-options.js';
import { appendWithEntries, heartbeat } from '../support/messages.js';
import { RecordingHandler } from '../support/recording-handler.js';
import { BROKER_KINDS, closedAfterEach, useBroker } from '../support/test-broker.js';
import { waitFor } from '../support/wait.js';

const WAIT_MS = 5000;

describe.each(BROKER_KINDS)('MqttTransport: multicasts (%s)', (kind) => {
  const broker = useBroker(kind);
  const open = closedAfterEach<MqttTransport>();
  let clusters = 0;

  async function group(ids: readonly string[], extra: Partial<MqttTransportOptions> = {}) {
    const cluster = `multicast-${++clusters}`;
    const members = new Map<string, { transport: MqttTransport; handler: RecordingHandler }>();
    for (const localId of ids) {
      const transport = new MqttTransport({ localId, url: broker.url, cluster, closeGraceMs: 200, ...extra });
      const handler = new RecordingHandler();
      open.push(transport);
      await transport.start(handler);
      members.set(localId, { transport, handler });
    }
    return (id: string) => members.get(id) as { transport: MqttTransport; handler: RecordingHandler };
  }

  for (const sealed of [false, true]) {
    it(`delivers one publish to each recipient as addressed to it, and to no one else${sealed ? ', sealed' : ''}`, async () => {
      const member = await group(['a', 'b', 'c', 'd', 'e'], sealed ? { groupKey: randomBytes(32) } : {});
      const hb: HeartbeatRequest = { ...heartbeat('a', 'b', 7), term: 3 };
      member('a').transport.multicast(['b', 'c', 'd'], hb);
      for (const id of ['b', 'c', 'd']) {
        await waitFor(() => member(id).handler.messages.length === 1, WAIT_MS, `${id} to receive it`);
        expect(member(id).handler.messages).toEqual([{ ...hb, to: id }]);
      }
      // e is not a recipient and a is the sender: both receive the publish and skip it.
      await waitFor(() => member('e').transport.stats.multicastsSkipped === 1, WAIT_MS, 'e to skip it');
      await waitFor(() => member('a').transport.stats.multicastsSkipped === 1, WAIT_MS, 'a to skip its own');
      expect(member('e').handler.messages).toEqual([]);
      expect(member('a').handler.messages).toEqual([]);
      expect(member('a').transport.stats.multicastsSent).toBe(1);
      expect(member('a').transport.stats.sent).toBe(1);
      for (const id of ['a', 'b', 'c', 'd', 'e']) expect(member(id).transport.stats.dropped).toBe(0);
    });
  }

  it('sends to each inbox instead when there are fewer recipients than multicastMinRecipients', async () => {
    const member = await group(['a', 'b', 'c', 'd'], { multicastMinRecipients: 3 });
    const append = appendWithEntries('a', 'b');
    member('a').transport.multicast(['b', 'c'], append);
    await waitFor(() => member('b').handler.messages.length === 1, WAIT_MS, 'b to receive it');
    await waitFor(() => member('c').handler.messages.length === 1, WAIT_MS, 'c to receive it');
    expect(member('b').handler.messages).toEqual([append]);
    expect(member('c').handler.messages).toEqual([{ ...append, to: 'c' }]);
    expect(member('a').transport.stats.multicastsSent).toBe(0);
    expect(member('a').transport.stats.sent).toBe(2);
    // Sent to the inboxes, so the other members never saw it.
    expect(member('d').transport.stats.multicastsSkipped).toBe(0);
  });

  it('leaves out, and counts as dropped, a recipient whose id cannot be an address', async () => {
    const member = await group(['a', 'b', 'c', 'd']);
    const hb: HeartbeatRequest = { ...heartbeat('a', 'b', 7), term: 3 };
    member('a').transport.multicast(['b', 'c', 'd', 'x/#'], hb);
    for (const id of ['b', 'c', 'd']) {
      await waitFor(() => member(id).handler.messages.length === 1, WAIT_MS, `${id} to receive it`);
    }
    expect(member('a').transport.stats.multicastsSent).toBe(1);
    expect(member('a').transport.stats.droppedReasons).toEqual({ invalidAddress: 1 });
  });

  it('carries appends with their entries, byte for byte', async () => {
    const member = await group(['a', 'b', 'c', 'd']);
    const append = appendWithEntries('a', 'd');
    member('a').transport.multicast(['d', 'c', 'b'], append);
    for (const id of ['b', 'c', 'd']) {
      await waitFor(() => member(id).handler.messages.length === 1, WAIT_MS, `${id} to receive it`);
      expect(member(id).handler.messages).toEqual([{ ...append, to: id }]);
    }
  });
});
