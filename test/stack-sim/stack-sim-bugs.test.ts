import { describe, expect, it } from 'vitest';
import { CI_SEEDS, CI_SEEDS_5, firstFailingSeed } from './run-seeds.js';
import { runStackSimulation } from './stack-sim.js';

// The simulation must be able to fail: each planted bug (broken.ts) is caught within the seeds CI
// runs, and a failing seed replays to the same history, byte for byte.
describe('the stack simulation itself', () => {
  it('catches a leader that keys its forward dedupe by member id alone, and replays the failing seed exactly', async () => {
    // A restarted process counts its forwards from 1 again and is given its predecessor's answers:
    // writes acknowledged that no member ever applied.
    const failed = await firstFailingSeed(CI_SEEDS, { members: 3, bug: 'dedupeByMember' }, (v) =>
      v.startsWith('LOST'),
    );
    expect(failed).not.toBeNull();
    const again = await runStackSimulation({ seed: failed?.seed ?? 0, members: 3, bug: 'dedupeByMember' });
    expect(again.history).toBe(failed?.history);
    expect(again.violations).toEqual(failed?.violations);
  }, 600_000);

  it('catches a forward pinned to its leader: calls sent to a dead leader still hang after the heal', async () => {
    const failed = await firstFailingSeed(
      CI_SEEDS,
      { members: 3, bug: 'pinnedForward' },
      (v) => v.startsWith('LIVENESS') && v.includes('calls still pending'),
    );
    expect(failed).not.toBeNull();
  }, 600_000);

  it('catches members that answer before their write: a crash takes back what they acknowledged', async () => {
    const failed = await firstFailingSeed(CI_SEEDS_5, { members: 5, bug: 'ackBeforeWrite' }, (v) =>
      v.startsWith('DIVERGED'),
    );
    expect(failed).not.toBeNull();
  }, 600_000);

  it('replays a passing seed to the same history, byte for byte', async () => {
    const a = await runStackSimulation({ seed: 3, members: 3 });
    const b = await runStackSimulation({ seed: 3, members: 3 });
    expect(a.violations).toEqual([]);
    expect(b.history).toBe(a.history);
    expect(b.stats).toEqual(a.stats);
    expect(a.stats.writesOk).toBeGreaterThan(0);
  }, 600_000);
});
