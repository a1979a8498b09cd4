import { describe, expect, it } from 'vitest';
import {
  MAX_TRANSFERS,
  MAX_TRANSFERS_PER_SENDER,
  type SnapshotReceive,
  transferLimitProblem,
} from '../../src/transport/mqtt-snapshot-receive.js';

/** Open transfers from these senders (only `from` is read). */
const open = (...senders: string[]) => senders.map((from) => ({ from }) as unknown as SnapshotReceive);

describe('limits on incoming snapshot transfers', () => {
  it('lets a transfer begin below both limits', () => {
    expect(transferLimitProblem(open(), 'a')).toBeNull();
    expect(transferLimitProblem(open('a'), 'a')).toBeNull();
    expect(transferLimitProblem(open('b', 'c', 'd', 'e', 'f', 'g', 'h'), 'a')).toBeNull();
  });

  it('refuses a sender that already has its share open, counting only its own', () => {
    expect(MAX_TRANSFERS_PER_SENDER).toBe(2);
    expect(transferLimitProblem(open('a', 'b', 'a'), 'a')).toBe(
      'a already has 2 snapshot transfers open (at most 2)',
    );
    expect(transferLimitProblem(open('a', 'b', 'a'), 'b')).toBeNull();
  });

  it('refuses anyone once the total is reached', () => {
    const full = open(...Array.from({ length: MAX_TRANSFERS }, (_, i) => `s${i}`));
    expect(transferLimitProblem(full, 'a')).toBe(
      `${MAX_TRANSFERS} snapshot transfers are open (at most ${MAX_TRANSFERS})`,
    );
    expect(transferLimitProblem(full.slice(1), 'a')).toBeNull();
  });
});
