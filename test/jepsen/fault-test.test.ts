import { describe, expect, it } from 'vitest';
import { ALL_FAULTS } from './nemesis.js';
import { runFaultTest } from './runner.js';

/**
 * The fault test of the real stack in CI: 3 member processes on LevelDB over the fault-injecting
 * aedes broker, every fault kind aedes supports, a fixed seed so a failure replays with
 * `npm run jepsen -- --nodes 3 --seconds 30 --seed 12`.
 */
const SEED = 12;
const SECONDS = 30;

describe('fault test (Jepsen-style) of the real stack', () => {
  it(`stays linearizable, converges and loses no acknowledged write (seed ${SEED}, ${SECONDS} s, 3 members, aedes)`, async () => {
    const lines: string[] = [];
    const result = await runFaultTest({
      nodes: 3,
      seconds: SECONDS,
      seed: SEED,
      broker: 'aedes',
      faults: ALL_FAULTS,
      log: (line) => lines.push(line),
    });
    const report = lines.join('\n');
    expect(result.runProblems, report).toEqual([]);
    expect(result.verdict?.linearizable, report).toBe('yes');
    expect(result.verdict?.lost.length, report).toBe(0);
    expect(result.verdict?.converged, report).toBe(true);
    expect(result.verdict?.streams?.problems, report).toEqual([]);
    expect(result.valid, report).toBe(true);
  }, 300_000); // About 30 s of faults plus start, healing, final reads and checking; generous for a loaded 2-core CI.
});
