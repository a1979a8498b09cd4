/**
 * open() on MQTT connects the client that probes the broker while the store opens (node-parts.ts):
 * whichever way open() ends, that client is gone afterwards, and only the member's own stays.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningBroker, startBroker } from '../../broker/index.js';
import { RaftBinding, RaftError } from '../../src/index.js';
import { waitFor } from '../support/wait.js';

let broker: RunningBroker;
let clusters = 0;

beforeAll(async () => {
  broker = await startBroker({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await broker.close();
});

describe('RaftBinding.open on MQTT: the probing client', () => {
  it('is disconnected once open() has settled the group, leaving only the member connected', async () => {
    const binding = new RaftBinding({
      id: 'a',
      broker: broker.url,
      cluster: `prober-${++clusters}`,
      store: join(mkdtempSync(join(tmpdir(), 'prober-')), 'a'),
      bootstrap: true,
    });
    try {
      await binding.open();
      await waitFor(() => broker.clients() === 1, 5000, 'the prober to disconnect');
      expect(broker.clients()).toBe(1);
    } finally {
      await binding.close({ leave: false });
    }
    await waitFor(() => broker.clients() === 0, 5000, 'the member to disconnect');
  });

  it('is disconnected when the store fails to open, and open() fails with the store error', async () => {
    const binding = new RaftBinding(
      { id: 'a', broker: broker.url, cluster: `prober-${++clusters}`, bootstrap: true },
      { openStorage: () => Promise.reject(new RaftError('CORRUPTION', 'the disk is on fire')) },
    );
    await expect(binding.open()).rejects.toMatchObject({
      code: 'CORRUPTION',
      message: 'the disk is on fire',
    });
    await waitFor(() => broker.clients() === 0, 5000, 'the prober to disconnect');
    expect(broker.clients()).toBe(0);
  });
});
