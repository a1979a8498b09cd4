import { describe, expect, it } from 'vitest';
import { PeerHealth } from '../../src/node/peer-health.js';

describe('PeerHealth (design §7: bound what senders make us hold)', () => {
  it('tracks at most 1024 senders, forgetting the least recently heard', () => {
    const health = new PeerHealth(100);
    health.heard('member', 0);
    for (let i = 0; i < 5000; i++) {
      health.heard(`forged-${i}`, 1);
      // A member keeps talking, so it stays among the most recently heard.
      if (i % 100 === 0) health.heard('member', 1);
    }
    // Read through the private map, so that the unbounded version fails with its real size.
    expect((health as unknown as { lastHeard: Map<string, number> }).lastHeard.size).toBe(1024);
    expect(health.tracked).toBe(1024);
    expect(health.check(['member'], 50)).toEqual([]);
  });

  it('still reports a member that went silent', () => {
    const health = new PeerHealth(100);
    health.heard('m', 0);
    expect(health.check(['m'], 50)).toEqual([]);
    expect(health.check(['m'], 200)).toEqual([{ peer: 'm', lastContact: 0 }]);
  });
});
