/**
 * The node's work loop on its own: tasks run in order, those queued while a Ready is handled
 * coalesce into the next one, a task's result or error reaches its caller, a stop waits for the
 * Ready in progress and refuses what comes after, and a failing Ready stops the loop for good.
 */
import { describe, expect, it } from 'vitest';
import { WorkLoop } from '../../src/node/work-loop.js';

/** A Ready handler the test releases by hand; `readies` says how many are pending work. */
function scripted() {
  const log: string[] = [];
  let release: (() => void) | null = null;
  let readies = 0;
  const handleNext = async (): Promise<boolean> => {
    if (readies === 0) return false;
    readies--;
    log.push('ready');
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    release = null;
    return true;
  };
  return {
    log,
    handleNext,
    pend: (n = 1) => {
      readies += n;
    },
    release: () => release?.(),
    waiting: () => release !== null,
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkLoop', () => {
  it('runs tasks in order, coalesces those queued during a Ready, and asks for Readies until the core is idle', async () => {
    const s = scripted();
    const loop = new WorkLoop(s.log, s.handleNext, async () => undefined);
    s.pend(3);
    loop.enqueue((log) => log.push('t1'));
    await turn();
    expect(s.waiting()).toBe(true);
    loop.enqueue((log) => log.push('t2'));
    loop.enqueue((log) => log.push('t3'));
    s.release();
    await turn();
    // The first Ready said there may be more: the loop ran the queued tasks, then asked again.
    expect(s.log).toEqual(['t1', 'ready', 't2', 't3', 'ready']);
    s.release();
    await turn();
    // Nothing was queued meanwhile, but the core still had work: it is asked once more.
    expect(s.log).toEqual(['t1', 'ready', 't2', 't3', 'ready', 'ready']);
    s.release();
    await turn();
    expect(s.waiting()).toBe(false);
    loop.enqueue((log) => log.push('t4'));
    await turn();
    expect(s.log).toEqual(['t1', 'ready', 't2', 't3', 'ready', 'ready', 't4']);
  });

  it('resolves run() with the task’s result and rejects it with the task’s error', async () => {
    const s = scripted();
    const loop = new WorkLoop(s.log, s.handleNext, async () => undefined);
    await expect(
      loop.run(
        (log) => log.length + 41,
        () => new Error('stopped'),
      ),
    ).resolves.toBe(41);
    await expect(
      loop.run(
        () => {
          throw new Error('the task failed');
        },
        () => new Error('stopped'),
      ),
    ).rejects.toThrow('the task failed');
  });

  it('stops after the Ready in progress, then drops tasks and refuses runs', async () => {
    const s = scripted();
    const loop = new WorkLoop(s.log, s.handleNext, async () => undefined);
    s.pend(1);
    loop.enqueue((log) => log.push('t1'));
    await turn();
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    await turn();
    expect(stopped).toBe(false);
    s.release();
    await stopping;
    loop.enqueue((log) => log.push('late'));
    await expect(
      loop.run(
        () => 1,
        () => new Error('the loop is stopped'),
      ),
    ).rejects.toThrow('the loop is stopped');
    await turn();
    expect(s.log).toEqual(['t1', 'ready']);
  });

  it('a Ready that throws stops the loop for good and is reported once', async () => {
    const failures: unknown[] = [];
    const loop = new WorkLoop(
      [] as string[],
      async () => {
        throw new Error('the disk failed');
      },
      async (err) => {
        failures.push(err);
      },
    );
    loop.enqueue(() => undefined);
    loop.enqueue(() => undefined);
    await turn();
    await turn();
    expect(failures).toHaveLength(1);
    expect((failures[0] as Error).message).toBe('the disk failed');
    await expect(
      loop.run(
        () => 1,
        () => new Error('stopped after a failure'),
      ),
    ).rejects.toThrow('stopped after a failure');
  });
});
