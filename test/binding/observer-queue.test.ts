import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ObserverQueue, type ObserverQueueOptions } from '../../src/binding/observer-queue.js';
import { RaftError } from '../../src/errors.js';

interface Made {
  readonly queue: ObserverQueue<string>;
  /** How many times onDetach ran. */
  readonly detached: () => number;
}

function make(options: Partial<ObserverQueueOptions<string>> = {}): Made {
  let detached = 0;
  const queue = new ObserverQueue<string>({
    limit: 3,
    replay: [],
    what: 'test observer',
    onDetach: () => {
      detached += 1;
    },
    ...options,
  });
  return { queue, detached: () => detached };
}

/** The values `queue` yields until it ends, and the error it ends with (null when it finishes). */
async function drain(queue: ObserverQueue<string>): Promise<{ values: string[]; error: unknown }> {
  const values: string[] = [];
  try {
    for (;;) {
      const r = await queue.next();
      if (r.done === true) return { values, error: null };
      values.push(r.value);
    }
  } catch (error) {
    return { values, error };
  }
}

describe('ObserverQueue', () => {
  it('yields the replay, then pushes, in order, each through copy', async () => {
    const { queue } = make({ replay: ['r1', 'r2'], copy: (s) => `${s}'` });
    queue.push('a');
    queue.pushRestore(['x', 'y']);
    queue.push('b');
    queue.close();
    expect(await drain(queue)).toEqual({ values: ["r1'", "r2'", "a'", "x'", "y'", "b'"], error: null });
  });

  it('answers pending reads in order as changes arrive', async () => {
    const { queue } = make();
    const first = queue.next();
    const second = queue.next();
    queue.push('a');
    queue.push('b');
    expect(await first).toEqual({ value: 'a', done: false });
    expect(await second).toEqual({ value: 'b', done: false });
    const third = queue.next();
    queue.close();
    expect(await third).toEqual({ value: undefined, done: true });
  });

  it('overflows past its limit: delivers what it queued, then throws a retryable OBSERVER_OVERFLOW', async () => {
    const { queue, detached } = make({ limit: 2 });
    queue.push('a');
    queue.push('b');
    queue.push('c');
    queue.push('d');
    expect(queue.isDetached).toBe(true);
    expect(detached()).toBe(1);
    const { values, error } = await drain(queue);
    expect(values).toEqual(['a', 'b']);
    expect(error).toBeInstanceOf(RaftError);
    expect(error).toMatchObject({
      code: 'OBSERVER_OVERFLOW',
      retryable: true,
      message: 'test observer fell more than 2 changes behind; observe again for a fresh replay',
    });
    // After the failure it is simply done.
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('counts only live pushes against the limit, freeing room as they are read', async () => {
    const { queue } = make({ limit: 1, replay: ['r1', 'r2', 'r3'] });
    queue.pushRestore(['x', 'y', 'z']);
    queue.push('a');
    expect(queue.isDetached).toBe(false);
    expect((await drain(takeSome(queue, 7))).values).toEqual(['r1', 'r2', 'r3', 'x', 'y', 'z', 'a']);
    queue.push('b');
    expect(queue.isDetached).toBe(false);
  });

  it('overflows on a second restore while the first is undelivered, but not once it was read', async () => {
    const { queue } = make();
    queue.pushRestore([]);
    queue.pushRestore(['x']);
    expect(queue.isDetached).toBe(false);
    expect(await queue.next()).toEqual({ value: 'x', done: false });
    queue.pushRestore(['y', 'z']);
    expect(queue.isDetached).toBe(false);
    queue.pushRestore(['w']);
    expect(queue.isDetached).toBe(true);
    const { values, error } = await drain(queue);
    expect(values).toEqual(['y', 'z']);
    expect(error).toMatchObject({
      code: 'OBSERVER_OVERFLOW',
      message:
        'test observer had not consumed the previous snapshot restore when another one arrived; observe again for a fresh replay',
    });
  });

  it('ignores pushes and restores once closed', async () => {
    const { queue, detached } = make();
    queue.push('a');
    queue.close();
    queue.push('b');
    queue.pushRestore(['c']);
    queue.close();
    expect(detached()).toBe(1);
    expect(await drain(queue)).toEqual({ values: ['a'], error: null });
  });

  it('on abort, drops what is queued, ends pending reads and detaches once', async () => {
    const controller = new AbortController();
    const { queue, detached } = make({ signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    queue.push('a');
    queue.pushRestore(['x']);
    controller.abort();
    expect(detached()).toBe(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('return() drops what is queued and stops listening to the signal', async () => {
    const controller = new AbortController();
    const { queue, detached } = make({ signal: controller.signal, replay: ['r'] });
    queue.push('a');
    expect(await queue.return()).toEqual({ value: undefined, done: true });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(detached()).toBe(1);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('with a signal aborted before it starts, is done at once, detached, and never listens', async () => {
    const controller = new AbortController();
    controller.abort();
    const { queue, detached } = make({ signal: controller.signal, replay: ['r'] });
    expect(queue.isDetached).toBe(true);
    expect(detached()).toBe(1);
    queue.push('a');
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a close stops listening to the signal too', () => {
    const controller = new AbortController();
    const { queue } = make({ signal: controller.signal });
    queue.close();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});

/** A view of `queue` that ends after `count` values. */
function takeSome(queue: ObserverQueue<string>, count: number): ObserverQueue<string> {
  let left = count;
  return {
    next: () => (left-- > 0 ? queue.next() : Promise.resolve({ value: undefined, done: true })),
  } as ObserverQueue<string>;
}
