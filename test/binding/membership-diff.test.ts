import { describe, expect, it } from 'vitest';
import {
  type MembershipChange,
  MembershipFeed,
  membershipDiff,
  membersOf,
} from '../../src/binding/membership-observer.js';

const set = (...ids: string[]) => new Set(ids);

describe('membershipDiff', () => {
  it('reports leaves first, then joins, each sorted', () => {
    expect(membershipDiff(set('a', 'd', 'c'), set('a', 'f', 'b'))).toEqual([
      { id: 'c', joined: false },
      { id: 'd', joined: false },
      { id: 'b', joined: true },
      { id: 'f', joined: true },
    ]);
  });

  it('reports a departure alone, and nothing when nobody changed', () => {
    expect(membershipDiff(set('a', 'b', 'c'), set('a', 'c'))).toEqual([{ id: 'b', joined: false }]);
    expect(membershipDiff(set('a', 'b'), set('b', 'a'))).toEqual([]);
  });

  it('counts every server of a configuration as a member, voter or not', () => {
    const members = membersOf({
      servers: [
        { id: 'a', suffrage: 'voter' },
        { id: 'b', suffrage: 'nonvoter' },
        { id: 'c', suffrage: 'staging' },
      ],
    });
    expect([...members].sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('MembershipFeed', () => {
  const config = (...ids: string[]) => ({ servers: ids.map((id) => ({ id, suffrage: 'voter' as const })) });

  it('replays the members sorted, then each committed change, to every observer', async () => {
    const feed = new MembershipFeed(100);
    feed.committed(config('b', 'a'));
    const first = feed.observe(undefined)[Symbol.asyncIterator]();
    feed.committed(config('a', 'c'));
    const second = feed.observe(undefined)[Symbol.asyncIterator]();
    feed.close();
    const drain = async (it: AsyncIterator<MembershipChange>) => {
      const out: MembershipChange[] = [];
      for (let r = await it.next(); r.done !== true; r = await it.next()) out.push(r.value);
      return out;
    };
    expect(await drain(first)).toEqual([
      { id: 'a', joined: true },
      { id: 'b', joined: true },
      { id: 'b', joined: false },
      { id: 'c', joined: true },
    ]);
    expect(await drain(second)).toEqual([
      { id: 'a', joined: true },
      { id: 'c', joined: true },
    ]);
    expect([...feed.current].sort()).toEqual(['a', 'c']);
  });

  it('ends at once an observer whose signal is already aborted, and feeds it nothing', async () => {
    const feed = new MembershipFeed(100);
    feed.committed(config('a'));
    const controller = new AbortController();
    controller.abort();
    const it = feed.observe(controller.signal)[Symbol.asyncIterator]();
    feed.committed(config('a', 'b'));
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('names the membership observer when it overflows', async () => {
    const feed = new MembershipFeed(1);
    const it = feed.observe(undefined)[Symbol.asyncIterator]();
    feed.committed(config('a'));
    feed.committed(config('a', 'b'));
    expect(await it.next()).toEqual({ value: { id: 'a', joined: true }, done: false });
    await expect(it.next()).rejects.toMatchObject({
      code: 'OBSERVER_OVERFLOW',
      message: 'membership observer fell more than 1 changes behind; observe again for a fresh replay',
    });
  });
});
