import { describe, expect, it } from 'vitest';
import { assertTarget } from './support/target.js';
import { storageTargets } from './targets/storage.js';

describe('fuzz: the on-disk formats', () => {
  for (const target of storageTargets()) {
    it(`${target.name}: a record that passes the store's checks, or CORRUPTION`, async () => {
      const counts = await assertTarget(target);
      expect(counts.accepted).toBeGreaterThan(0);
      expect(counts.rejected).toBeGreaterThan(0);
    });
  }
});
