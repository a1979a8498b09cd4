import { describe, expect, it } from 'vitest';
import { RaftError } from '../src/errors.js';
import { checkTimeout, type RetryPolicy, retry } from '../src/retry.js';

/** A policy with no real waiting: pauses are recorded and resolve at once. */
function policy(overrides: Partial<RetryPolicy> = {}): RetryPolicy & { pauses: number[] } {
  const pauses: number[] = [];
  return {
    what: 'op',
    deadline: Date.now() + 60_000,
    idempotent: false,
    minDelayMs: 10,
    maxDelayMs: 40,
    pause: async (ms) => void pauses.push(ms),
    pauses,
    ...overrides,
  };
}

/** An attempt function that throws the given errors in turn, then returns 'done'. */
function failing(...errors: unknown[]): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    attempt: async () => {
      const err = errors[calls++];
      if (err !== undefined) throw err;
      return 'done';
    },
    calls: () => calls,
  };
}

const definite = (code: RaftError['code'] = 'TIMEOUT') => new RaftError(code, 'x', { retryable: true });
const unknown = () => new RaftError('TIMEOUT', 'x', { retryable: true, indefinite: true });

describe('retry', () => {
  it('retries definite retryable failures with doubling pauses, capped', async () => {
    const p = policy();
    const f = failing(definite(), definite(), definite(), definite());
    expect(await retry(p, f.attempt)).toBe('done');
    expect(f.calls()).toBe(5);
    expect(p.pauses).toEqual([10, 20, 40, 40]);
  });

  it('does not repeat an attempt whose outcome is unknown unless the call is idempotent', async () => {
    const once = failing(unknown());
    await expect(retry(policy(), once.attempt)).rejects.toMatchObject({ code: 'TIMEOUT', indefinite: true });
    expect(once.calls()).toBe(1);
    const again = failing(unknown());
    expect(await retry(policy({ idempotent: true }), again.attempt)).toBe('done');
    expect(again.calls()).toBe(2);
  });

  it('reports an indefinite final error when an earlier attempt may still take effect', async () => {
    const f = failing(unknown(), new RaftError('INVALID_INPUT', 'refused'));
    const err = await retry(policy({ idempotent: true }), f.attempt).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_INPUT', indefinite: true });
  });

  it('never retries what is not retryable, nor an error that is not a RaftError', async () => {
    const refused = failing(new RaftError('INVALID_INPUT', 'no'));
    await expect(retry(policy(), refused.attempt)).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      indefinite: false,
    });
    expect(refused.calls()).toBe(1);
    const bug = failing(new TypeError('bug'));
    await expect(retry(policy({ idempotent: true }), bug.attempt)).rejects.toBeInstanceOf(TypeError);
    expect(bug.calls()).toBe(1);
  });

  it('stops on an error the policy calls final', async () => {
    const f = failing(new RaftError('NOT_LEADER', 'go there', { retryable: true, leader: 'b' }));
    const p = policy({ final: (e) => e.code === 'NOT_LEADER' });
    await expect(retry(p, f.attempt)).rejects.toMatchObject({ code: 'NOT_LEADER', leader: 'b' });
    expect(f.calls()).toBe(1);
  });

  it('follows a pointer to a new leader at once, but only once in a row', async () => {
    const hint = () => new RaftError('NOT_LEADER', 'go there', { retryable: true, leader: 'b' });
    const p = policy();
    const seen: Array<string | null> = [];
    const errors = [hint(), hint(), hint()];
    const result = await retry(p, async ({ previous }) => {
      seen.push(previous?.leader ?? null);
      const err = errors.shift();
      if (err !== undefined) throw err;
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toEqual([null, 'b', 'b', 'b']);
    expect(p.pauses).toEqual([10]);
  });

  it('gives up at the deadline with the last error, and before the first attempt when none is left', async () => {
    let now = 0;
    const p = policy({
      deadline: Date.now() + 25,
      pause: async (ms) => {
        now += ms;
        await new Promise((r) => setTimeout(r, ms));
      },
    });
    const err = await retry(p, async () => {
      throw definite('UNREACHABLE');
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNREACHABLE', indefinite: false });
    expect(now).toBeGreaterThan(0);
    const late = await retry(policy({ deadline: Date.now() - 1 }), async () => 'never').catch(
      (e: unknown) => e,
    );
    expect(late).toMatchObject({
      code: 'TIMEOUT',
      message: 'op: the deadline passed before the first attempt',
    });
  });

  it('stops when the signal aborts, keeping what it knows of the outcome', async () => {
    const controller = new AbortController();
    const p = policy({ signal: controller.signal, idempotent: true });
    const err = await retry(p, async () => {
      controller.abort();
      throw unknown();
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', indefinite: true });
  });
});

describe('checkTimeout', () => {
  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, '5', null])('refuses %s', (value) => {
    expect(() => checkTimeout('call', value)).toThrow(/call: timeoutMs must be a finite number/);
  });
  it.each([undefined, 0, 1.5, 10_000])('accepts %s', (value) => {
    expect(() => checkTimeout('call', value)).not.toThrow();
  });
});
