/**
 * How a proposal's wait ends (src/node/pending.ts): applied in its term, it succeeds; applied in
 * another term, it was overwritten and failed for sure; skipped by a snapshot, its fate is unknown.
 */
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/core/types.js';
import { RaftError } from '../../src/index.js';
import { PendingProposals } from '../../src/node/pending.js';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'command',
  data: new Uint8Array(),
});

async function settled(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (err: RaftError) => ({
      code: err.code,
      message: err.message,
      retryable: err.retryable,
      indefinite: err.indefinite,
    }),
  );
}

describe('PendingProposals', () => {
  it('resolves an entry applied in its own term with the FSM response, and only that entry', async () => {
    const pending = new PendingProposals();
    const first = settled(pending.wait(3, 2));
    const second = settled(pending.wait(4, 2));
    pending.applied(entry(3, 2), 'ok');
    pending.applied(entry(9, 2), 'nobody waits');
    expect(await first).toEqual({ value: { index: 3, response: 'ok' } });
    expect(pending.size).toBe(1);
    pending.applied(entry(4, 2), undefined);
    expect(await second).toEqual({ value: { index: 4, response: undefined } });
    expect(pending.size).toBe(0);
  });

  it('fails an entry overwritten by a newer leader definitely: it will never commit', async () => {
    const pending = new PendingProposals();
    const waiting = settled(pending.wait(5, 2));
    pending.applied(entry(5, 3), 'someone else');
    expect(await waiting).toEqual({
      code: 'LEADERSHIP_LOST',
      message: 'the entry at 5 was replaced by a newer leader',
      retryable: true,
      indefinite: false,
    });
  });

  it('fails the entries a snapshot skipped as unknown, and keeps those above it', async () => {
    const pending = new PendingProposals();
    const below = settled(pending.wait(6, 2));
    const at = settled(pending.wait(7, 2));
    const above = settled(pending.wait(8, 2));
    pending.skippedTo(7);
    const unknown = {
      code: 'LEADERSHIP_LOST',
      message: 'a snapshot replaced the log up to 7; the outcome is unknown',
      retryable: true,
      indefinite: true,
    };
    expect(await below).toEqual(unknown);
    expect(await at).toEqual(unknown);
    expect(pending.size).toBe(1);
    pending.applied(entry(8, 2), 'kept');
    expect(await above).toEqual({ value: { index: 8, response: 'kept' } });
  });

  it('abandons one entry with the caller’s error, and fails all at shutdown', async () => {
    const pending = new PendingProposals();
    const one = settled(pending.wait(1, 1));
    const two = settled(pending.wait(2, 1));
    const three = settled(pending.wait(3, 1));
    pending.abandon(1, new RaftError('TIMEOUT', 'gave up', { indefinite: true }));
    pending.abandon(1, new RaftError('TIMEOUT', 'again'));
    expect(await one).toMatchObject({ code: 'TIMEOUT', message: 'gave up', indefinite: true });
    pending.rejectAll(new RaftError('SHUTDOWN', 'down', { indefinite: true }));
    expect(await two).toMatchObject({ code: 'SHUTDOWN', indefinite: true });
    expect(await three).toMatchObject({ code: 'SHUTDOWN', indefinite: true });
    expect(pending.size).toBe(0);
  });
});
