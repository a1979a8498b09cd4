/**
 * The node's bound on what one peer message may make it hold (PeerInput.admit, design §7): an
 * AppendEntries of several entries above the per-message byte bound is dropped and counted; one
 * entry alone may exceed it (a leader sends an oversized entry by itself); a snapshot request
 * that comes as a plain message, without its data, is dropped.
 */
import { describe, expect, it } from 'vitest';
import { entrySize } from '../../src/core/log.js';
import { DEFAULT_MAX_BYTES_PER_MESSAGE } from '../../src/core/options.js';
import type { Entry, Message } from '../../src/core/types.js';
import { MemoryStore } from '../../src/index.js';
import { PeerInput } from '../../src/node/peer-input.js';

const entry = (index: number, bytes: number): Entry => ({
  index,
  term: 1,
  type: 'command',
  data: new Uint8Array(bytes),
});
const append = (entries: Entry[]): Message => ({
  type: 'appendRequest',
  from: 'a',
  to: 'b',
  term: 1,
  prevIndex: 0,
  prevTerm: 0,
  entries,
  commit: 0,
});

function intake(): PeerInput {
  return new PeerInput({
    storage: new MemoryStore(),
    run: () => Promise.reject(new Error('admit never runs on the core')),
    step: () => undefined,
  });
}

describe('PeerInput.admit', () => {
  it('takes entries up to the byte bound exactly, and drops (counting) one byte more', () => {
    const input = intake();
    const half = DEFAULT_MAX_BYTES_PER_MESSAGE / 2 - entrySize(entry(0, 0));
    const atBound = [entry(1, half), entry(2, half)];
    expect(atBound.reduce((sum, e) => sum + entrySize(e), 0)).toBe(DEFAULT_MAX_BYTES_PER_MESSAGE);
    expect(input.admit(append(atBound))).toBe(true);
    expect(input.admit(append([entry(1, half), entry(2, half + 1)]))).toBe(false);
    expect(input.dropped).toEqual({ tooManyBytes: 1 });
  });

  it('takes one entry alone above the bound, and any other kind of message', () => {
    const input = intake();
    expect(input.admit(append([entry(1, 2 * DEFAULT_MAX_BYTES_PER_MESSAGE)]))).toBe(true);
    expect(
      input.admit({ type: 'heartbeatRequest', from: 'a', to: 'b', term: 1, commit: 0, context: 0 }),
    ).toBe(true);
    expect(input.dropped).toEqual({});
  });

  it('counts no bytes for malformed entries, and bounds only AppendEntries', () => {
    // Malformed input is the core's to refuse; admit must neither throw on it nor count it.
    const input = intake();
    const full = entry(1, DEFAULT_MAX_BYTES_PER_MESSAGE - entrySize(entry(0, 0)));
    expect(entrySize(full)).toBe(DEFAULT_MAX_BYTES_PER_MESSAGE);
    const noBytes = { ...entry(2, 0), data: 'not bytes' } as unknown as Entry;
    expect(input.admit(append([full, noBytes, null as unknown as Entry]))).toBe(true);
    expect(input.admit(append({ length: 3 } as unknown as Entry[]))).toBe(true);
    const heartbeat = { type: 'heartbeatRequest', from: 'a', to: 'b', term: 1, commit: 0, context: 0 };
    const carrying = { ...heartbeat, entries: [entry(1, DEFAULT_MAX_BYTES_PER_MESSAGE), entry(2, 1)] };
    expect(input.admit(carrying as unknown as Message)).toBe(true);
    expect(input.dropped).toEqual({});
  });

  it('drops a snapshot request without its data, counted as such', () => {
    const input = intake();
    const request: Message = {
      type: 'snapshotRequest',
      from: 'a',
      to: 'b',
      term: 1,
      snapshot: { index: 9, term: 1, config: { servers: [] }, configIndex: 1 },
    };
    expect(input.admit(request)).toBe(false);
    expect(input.admit(request)).toBe(false);
    expect(input.dropped).toEqual({ snapshotWithoutData: 2 });
  });
});
