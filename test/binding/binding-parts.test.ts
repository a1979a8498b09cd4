import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, MemoryStore, RaftBinding, systemClock } from '../../src/index.js';
import { InmemNetwork } from '../../src/transport/index.js';
import { FAST_BINDING, set, textState } from '../support/binding-group.js';
import { RecordingLogger } from '../support/recording-logger.js';
import { waitFor } from '../support/wait.js';

let open: RaftBinding[] = [];

afterEach(async () => {
  for (const b of open) await b.close({ leave: false });
  open = [];
});

describe('RaftBinding composed from injected parts', () => {
  it('runs a group on the in-memory network and memory stores, on the clock it is given', async () => {
    const network = new InmemNetwork({ seed: 3 });
    let clockReads = 0;
    const clock: Clock = {
      ...systemClock,
      now: () => {
        clockReads++;
        return systemClock.now();
      },
    };
    // Identities drawn by the member processes (incarnations, proposal sessions) come from here.
    let drawn = 0;
    const randomBytes = (size: number) => {
      drawn++;
      return new Uint8Array(size).fill(drawn);
    };
    const member = async (id: string, bootstrap: boolean) => {
      const binding = new RaftBinding(
        // The broker URL is never used: the transport is injected.
        { id, broker: 'mqtt://127.0.0.1:1', bootstrap, ...FAST_BINDING },
        {
          openStorage: async () => new MemoryStore(),
          createTransport: () => network.transport(id),
          clock,
          randomBytes,
        },
      );
      await binding.open();
      open.push(binding);
      return binding;
    };
    const a = await member('a', true);
    const b = await member('b', false);
    const c = await member('c', false);
    await c.proposeInput(set('k', 'v'));
    await waitFor(
      async () =>
        (await Promise.all([a, b, c].map(async (m) => JSON.stringify(textState(await m.getState()))))).every(
          (s) => s === '[["k","v"]]',
        ),
      5000,
      'every member to hold k=v',
    );
    expect(
      a
        .status()
        .members.map((m) => m.id)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(clockReads).toBeGreaterThan(0);
    // One incarnation and one proposal session per member, none from the system's generator.
    expect(drawn).toBe(6);
  });

  it('passes its logger to its Raft node', async () => {
    const network = new InmemNetwork({ seed: 4 });
    const logger = new RecordingLogger();
    const binding = new RaftBinding(
      { id: 'a', broker: 'mqtt://127.0.0.1:1', bootstrap: true, logger, ...FAST_BINDING },
      { openStorage: async () => new MemoryStore(), createTransport: () => network.transport('a') },
    );
    await binding.open();
    open.push(binding);
    expect(logger.find('info', /^elected leader \(term \d+\)$/)).toHaveLength(1);
    expect(logger.find('info', /^membership committed at 1: a$/)).toHaveLength(1);
  });
});
