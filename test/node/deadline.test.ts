import { describe, expect, it } from 'vitest';
import { type DeadlineOptions, withDeadline } from '../../src/node/deadline.js';

const never = () => new Promise<never>(() => undefined);
const bound = (overrides: Partial<DeadlineOptions>): DeadlineOptions => ({
  what: 'op',
  timeoutMs: 1000,
  indefinite: false,
  ...overrides,
});

describe('withDeadline', () => {
  it('times out as indefinite only when the operation may still happen', async () => {
    const maybe = await withDeadline(never(), bound({ timeoutMs: 5, indefinite: true })).catch(
      (e: unknown) => e,
    );
    expect(maybe).toMatchObject({ code: 'TIMEOUT', indefinite: true, retryable: true });
    const not = await withDeadline(never(), bound({ timeoutMs: 5 })).catch((e: unknown) => e);
    expect(not).toMatchObject({ code: 'TIMEOUT', indefinite: false });
  });

  it('asks whether the operation may still happen at the moment it gives up', async () => {
    let proposed = false;
    const controller = new AbortController();
    const call = withDeadline(never(), bound({ signal: controller.signal, indefinite: () => proposed }));
    proposed = true;
    controller.abort();
    expect(await call.catch((e: unknown) => e)).toMatchObject({ code: 'TIMEOUT', indefinite: true });
    const before = await withDeadline(
      never(),
      bound({ signal: AbortSignal.abort(), indefinite: () => false }),
    ).catch((e: unknown) => e);
    expect(before).toMatchObject({ code: 'TIMEOUT', indefinite: false, message: 'op: aborted' });
  });

  it('runs onGiveUp with the error it rejects with, and settles with the operation otherwise', async () => {
    const given: unknown[] = [];
    const onGiveUp = (e: unknown) => void given.push(e);
    const err = await withDeadline(never(), bound({ timeoutMs: 5, onGiveUp })).catch((e: unknown) => e);
    expect(given).toEqual([err]);
    expect(await withDeadline(Promise.resolve(3), bound({ onGiveUp }))).toBe(3);
    expect(given).toHaveLength(1);
  });

  it('waits on the clock it is given', async () => {
    const timers: Array<{ ms: number; fire: () => void }> = [];
    const clock = {
      now: () => 0,
      setTimeout: (fire: () => void, ms: number) => {
        timers.push({ ms, fire });
        return {};
      },
      clearTimeout: () => undefined,
      setInterval: () => ({}),
      clearInterval: () => undefined,
    };
    const call = withDeadline(never(), bound({ timeoutMs: 123_456, clock }));
    expect(timers.map((t) => t.ms)).toEqual([123_456]);
    timers[0]?.fire();
    expect(await call.catch((e: unknown) => e)).toMatchObject({ code: 'TIMEOUT' });
  });

  it('names the operation and the bound, and keeps the abort reason as the cause', async () => {
    const late = await withDeadline(never(), bound({ what: 'apply', timeoutMs: 5 })).catch((e: unknown) => e);
    expect(late).toMatchObject({ message: 'apply: no outcome within 5 ms' });
    const reason = new Error('the caller left');
    const controller = new AbortController();
    const call = withDeadline(
      never(),
      bound({ what: 'barrier', signal: controller.signal, indefinite: true }),
    );
    controller.abort(reason);
    expect(await call.catch((e: unknown) => e)).toMatchObject({
      code: 'TIMEOUT',
      message: 'barrier: aborted',
      indefinite: true,
      cause: reason,
    });
    const early = await withDeadline(
      never(),
      bound({ signal: AbortSignal.abort(reason), indefinite: true }),
    ).catch((e: unknown) => e);
    expect(early).toMatchObject({ message: 'op: aborted', indefinite: true, cause: reason });
  });

  it('stops listening to the signal once the operation settled', async () => {
    const given: unknown[] = [];
    const controller = new AbortController();
    const done = await withDeadline(
      Promise.resolve('done'),
      bound({ signal: controller.signal, onGiveUp: (e) => void given.push(e) }),
    );
    controller.abort();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe('done');
    expect(given).toEqual([]);
  });
});
