import { describe, expect, it } from 'vitest';
import { withDeadline } from '../../src/node/deadline.js';

const never = () => new Promise<never>(() => undefined);

describe('withDeadline', () => {
  it('times out as indefinite only when the operation may still happen', async () => {
    const maybe = await withDeadline(never(), { timeoutMs: 5 }, 1000, 'op', true).catch((e: unknown) => e);
    expect(maybe).toMatchObject({ code: 'TIMEOUT', indefinite: true, retryable: true });
    const not = await withDeadline(never(), { timeoutMs: 5 }, 1000, 'op', false).catch((e: unknown) => e);
    expect(not).toMatchObject({ code: 'TIMEOUT', indefinite: false });
  });

  it('asks whether the operation may still happen at the moment it gives up', async () => {
    let proposed = false;
    const controller = new AbortController();
    const call = withDeadline(never(), { signal: controller.signal }, 1000, 'op', () => proposed);
    proposed = true;
    controller.abort();
    expect(await call.catch((e: unknown) => e)).toMatchObject({ code: 'TIMEOUT', indefinite: true });
    const before = await withDeadline(
      never(),
      { signal: AbortSignal.abort() },
      1000,
      'op',
      () => false,
    ).catch((e: unknown) => e);
    expect(before).toMatchObject({ code: 'TIMEOUT', indefinite: false, message: 'op: aborted' });
  });

  it('runs onGiveUp with the error it rejects with, and settles with the operation otherwise', async () => {
    const given: unknown[] = [];
    const err = await withDeadline(never(), { timeoutMs: 5 }, 1000, 'op', false, (e) => given.push(e)).catch(
      (e: unknown) => e,
    );
    expect(given).toEqual([err]);
    expect(await withDeadline(Promise.resolve(3), {}, 1000, 'op', false, (e) => given.push(e))).toBe(3);
    expect(given).toHaveLength(1);
  });
});
