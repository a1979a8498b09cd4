import { describe, expect, it } from 'vitest';
import { RaftError } from '../../src/errors.js';
import { ForwardServer, forwardRefusal } from '../../src/node/forwarding.js';
import type { ForwardRequest } from '../../src/transport/types.js';

/** A leader's forward server whose `perform` answers from a script and counts its calls. */
function server(script: Array<() => Promise<{ index: number }>>) {
  let performed = 0;
  const s = new ForwardServer(
    () => true,
    () => 'a',
    () => {
      const next = script[performed++] ?? (async () => ({ index: 100 + performed }));
      return next();
    },
  );
  return { s, performed: () => performed };
}

const request = (seq: number, incarnation = 'i1'): ForwardRequest => ({
  kind: 'barrier',
  origin: 'b',
  incarnation,
  seq,
});

describe('ForwardServer', () => {
  it('answers a repeated request with the first answer, without performing it again', async () => {
    const { s, performed } = server([async () => ({ index: 7 })]);
    const [one, two] = await Promise.all([s.handle(request(1)), s.handle(request(1))]);
    expect(await s.handle(request(1))).toEqual({ ok: true, index: 7 });
    expect([one, two]).toEqual([
      { ok: true, index: 7 },
      { ok: true, index: 7 },
    ]);
    expect(performed()).toBe(1);
  });

  it('keys requests by incarnation: a restarted process is never given its predecessor answer', async () => {
    const { s, performed } = server([async () => ({ index: 7 }), async () => ({ index: 9 })]);
    expect(await s.handle(request(1, 'old'))).toEqual({ ok: true, index: 7 });
    expect(await s.handle(request(1, 'new'))).toEqual({ ok: true, index: 9 });
    expect(performed()).toBe(2);
  });

  it('forgets a definite failure, so a retry is performed afresh', async () => {
    const { s, performed } = server([
      async () => {
        throw new RaftError('CONFIG_CHANGE_IN_PROGRESS', 'busy', { retryable: true });
      },
      async () => ({ index: 8 }),
    ]);
    expect(await s.handle(request(1))).toMatchObject({
      ok: false,
      error: { code: 'CONFIG_CHANGE_IN_PROGRESS', indefinite: false },
    });
    expect(await s.handle(request(1))).toEqual({ ok: true, index: 8 });
    expect(performed()).toBe(2);
  });

  it('keeps an unknown outcome: a duplicate delivery must not propose a second time', async () => {
    const { s, performed } = server([
      async () => {
        throw new RaftError('TIMEOUT', 'no outcome', { retryable: true, indefinite: true });
      },
    ]);
    const first = await s.handle(request(1));
    expect(first).toMatchObject({ ok: false, error: { code: 'TIMEOUT', indefinite: true } });
    expect(await s.handle(request(1))).toEqual(first);
    expect(performed()).toBe(1);
  });

  it('remembers a bounded number of requests, oldest forgotten first', async () => {
    const { s, performed } = server([]);
    for (let seq = 1; seq <= 10_000; seq++) await s.handle(request(seq));
    // Exactly 10,000 are remembered: the first one still is.
    await s.handle(request(1));
    expect(performed()).toBe(10_000);
    await s.handle(request(10_001));
    expect(performed()).toBe(10_001);
    await s.handle(request(10_001));
    expect(performed()).toBe(10_001);
    // The 10,001st pushed out the oldest.
    await s.handle(request(1));
    expect(performed()).toBe(10_002);
  });

  it('answers NOT_LEADER with its hint when it does not lead, performing nothing', async () => {
    let performed = 0;
    const s = new ForwardServer(
      () => false,
      () => 'c',
      async () => {
        performed++;
        return { index: 1 };
      },
    );
    expect(await s.handle(request(1))).toEqual({
      ok: false,
      error: {
        code: 'NOT_LEADER',
        message: 'not the leader',
        retryable: true,
        indefinite: false,
        leader: 'c',
      },
    });
    expect(performed).toBe(0);
  });

  it('answers a failure that is not a RaftError as an indefinite UNREACHABLE: it may have been performed', async () => {
    const { s } = server([
      async () => {
        throw new Error('the disk is on fire');
      },
    ]);
    expect(await s.handle(request(1))).toMatchObject({
      ok: false,
      error: { code: 'UNREACHABLE', retryable: true, indefinite: true, leader: 'a' },
    });
  });
});

describe('who may forward what (forwardRefusal)', () => {
  const config = {
    servers: [
      { id: 'a', suffrage: 'voter' as const },
      { id: 'b', suffrage: 'voter' as const },
    ],
  };
  const refused = (message: string) => ({
    code: 'INVALID_INPUT',
    message,
    retryable: false,
    indefinite: false,
    leader: null,
  });
  const change = (origin: string, id: string): ForwardRequest => ({
    kind: 'addVoter',
    origin,
    incarnation: 'i',
    seq: 1,
    id,
  });

  it('refuses a request sent on behalf of another member', () => {
    expect(forwardRefusal({ ...request(1), origin: 'b' }, 'x', config)).toEqual(
      refused('x may not forward a request of b'),
    );
  });

  it('takes any proposal from its sender, and a membership change from a member or about the sender itself', () => {
    expect(
      forwardRefusal(
        { kind: 'apply', origin: 'x', incarnation: 'i', seq: 1, data: new Uint8Array() },
        'x',
        config,
      ),
    ).toBeNull();
    expect(forwardRefusal({ ...request(1), origin: 'x' }, 'x', config)).toBeNull();
    expect(forwardRefusal(change('b', 'z'), 'b', config)).toBeNull();
    expect(forwardRefusal(change('x', 'x'), 'x', config)).toBeNull();
  });

  it('refuses a membership change about another server from a non-member', () => {
    expect(forwardRefusal(change('x', 'b'), 'x', config)).toEqual(
      refused('x is not a member: it may change only its own membership'),
    );
  });
});
