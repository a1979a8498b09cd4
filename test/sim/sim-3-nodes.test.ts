import { describe, expect, it } from 'vitest';
import { describeFailures, failingSeeds } from './run-seeds.js';

// CI's share of the simulation: 300 seeds of a 3-server cluster under every fault the simulator
// injects. `npm run sim -- --seeds 2000` runs the long campaign.
describe('simulation, 3 servers', () => {
  it('keeps every safety invariant and recovers after healing, for 300 seeds', () => {
    const { failures } = failingSeeds(300, { nodes: 3 });
    expect(failures.length, describeFailures(failures)).toBe(0);
    // Pure computation: a machine loaded by other work runs it several times slower (35 and 51 s seen).
  }, 180_000);
});
