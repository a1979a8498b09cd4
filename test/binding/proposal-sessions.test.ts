import { describe, expect, it } from 'vitest';
import { DEDUPE_WINDOW } from '../../src/binding/dedupe-table.js';
import { ProposalSessions, type Ticket } from '../../src/binding/proposal-sessions.js';

/** Session ids 0101…, 0202…: one byte value per draw. */
function counting(): () => Uint8Array {
  let drawn = 0;
  return () => new Uint8Array(8).fill(++drawn);
}

describe('ProposalSessions', () => {
  it('numbers proposals 1, 2, 3 in one session, acknowledging the oldest still in flight', () => {
    const sessions = new ProposalSessions(counting());
    const a = sessions.issue();
    const b = sessions.issue();
    expect([a.session, a.seq, a.ack]).toEqual(['0101010101010101', 1, 1]);
    expect([b.seq, b.ack]).toEqual([2, 1]);
    b.finish();
    expect(sessions.issue()).toMatchObject({ seq: 3, ack: 1 });
    a.finish();
    // 1 and 2 are done; 3 is still in flight.
    expect(sessions.issue()).toMatchObject({ seq: 4, ack: 3 });
  });

  it('acknowledges the next seq when nothing is in flight', () => {
    const sessions = new ProposalSessions(counting());
    sessions.issue().finish();
    sessions.issue().finish();
    expect(sessions.issue()).toMatchObject({ seq: 3, ack: 3 });
  });

  it('keeps acknowledging correctly across thousands of finished proposals', () => {
    const sessions = new ProposalSessions(counting());
    const stuck = sessions.issue();
    let last: Ticket = stuck;
    for (let i = 0; i < 5000; i++) {
      const t = sessions.issue();
      // The oldest in flight stays the stuck one until it lags a whole window behind.
      if (t.session === stuck.session) expect(t.ack).toBe(1);
      t.finish();
      last = t;
    }
    expect(last.session).not.toBe(stuck.session);
    stuck.finish();
    // In the new session, everything issued so far has finished.
    const next = sessions.issue();
    expect(next.ack).toBe(next.seq);
  });

  it('starts a new session once the oldest call in flight lags a whole window behind', () => {
    const sessions = new ProposalSessions(counting());
    const first = sessions.issue();
    for (let i = 1; i < DEDUPE_WINDOW - 1; i++) sessions.issue().finish();
    const lastInWindow = sessions.issue();
    expect([lastInWindow.session, lastInWindow.seq, lastInWindow.ack]).toEqual([
      first.session,
      DEDUPE_WINDOW,
      1,
    ]);
    lastInWindow.finish();
    const fresh = sessions.issue();
    expect([fresh.session, fresh.seq, fresh.ack]).toEqual(['0202020202020202', 1, 1]);
  });

  it('after a long run of finished calls, the seq behind a compaction is still waited for', () => {
    const sessions = new ProposalSessions(counting());
    const open: Ticket[] = [];
    for (let i = 0; i < 1500; i++) {
      const t = sessions.issue();
      if (i === 1200) open.push(t);
      else t.finish();
    }
    expect(sessions.issue()).toMatchObject({ ack: 1201 });
    open[0]?.finish();
    const next = sessions.issue();
    expect(next.ack).toBe(next.seq - 1);
  });
});
