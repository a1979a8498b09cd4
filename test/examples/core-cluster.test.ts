import { expect, it } from 'vitest';
import { runCoreCluster } from '../../examples/core-cluster.js';

it('the core-cluster example replicates every command to every server, in order', () => {
  const commands = ['set x=1', 'set y=2', 'del x'];
  const applied = runCoreCluster(commands);
  expect([...applied.keys()]).toEqual(['a', 'b', 'c']);
  for (const log of applied.values()) expect(log).toEqual(commands);
});
