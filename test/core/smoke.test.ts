import { describe, expect, it } from 'vitest';
import { appliedCommands, TestCluster } from '../support/cluster.js';

describe('smoke', () => {
  it('elects a leader and replicates', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.elect('a')).toBe('a');
    expect(c.propose('a', 'x').accepted).toBe(true);
    c.tick(3);
    for (const id of ['a', 'b', 'c']) expect(appliedCommands(c.node(id))).toEqual(['x']);
  });
});
