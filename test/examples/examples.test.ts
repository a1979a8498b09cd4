import { describe, expect, it } from 'vitest';
import { run as runDeviceConfigSync } from '../../examples/device-config-sync.js';
import { run as runKvGroup } from '../../examples/kv-group.js';

describe('the binding examples', () => {
  it('kv-group: the three members converge on the same state', async () => {
    const lines: string[] = [];
    const states = await runKvGroup((line) => lines.push(line));
    expect([...states.keys()]).toEqual(['a', 'b', 'c']);
    for (const state of states.values()) expect(state).toEqual({ counter: '2', owner: 'b' });
    expect(lines.some((line) => line.includes('[c] observed set greeting = hello'))).toBe(true);
  });

  it('device-config-sync: every lamp applies every setting, whoever changed it', async () => {
    const settings = await runDeviceConfigSync(() => undefined);
    expect([...settings.keys()]).toEqual(['kitchen-lamp', 'hall-lamp', 'porch-lamp']);
    for (const applied of settings.values()) {
      expect(applied).toEqual({ brightness: 30, mode: 'night', color: 'warm-white' });
    }
  });
});
