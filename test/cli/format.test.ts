import { describe, expect, it } from 'vitest';
import { showMembers, showStatus } from '../../src/cli/format.js';

describe('the text of members and status', () => {
  it('aligns members in columns, with health only where the leader reported it', () => {
    expect(
      showMembers([
        { id: 'a', suffrage: 'voter', leader: true, health: { lastContactMs: 0, matchIndex: 12, lag: 0 } },
        {
          id: 'bb',
          suffrage: 'nonvoter',
          leader: false,
          health: { lastContactMs: null, matchIndex: 0, lag: 12 },
        },
      ]),
    ).toBe(
      'a   voter     leader  last contact 0 ms ago, match 12, lag 0\n' +
        'bb  nonvoter          last contact never, match 0, lag 12',
    );
    expect(
      showMembers([
        { id: 'a', suffrage: 'voter', leader: false, health: null },
        { id: 'b', suffrage: 'staging', leader: true, health: null },
      ]),
    ).toBe('a  voter\nb  staging  leader');
  });

  it('shows a stopped member with the cause that stopped it', () => {
    const status = {
      id: 'a',
      role: 'stopped',
      leader: 'a',
      term: 3,
      commitIndex: 9,
      appliedIndex: 9,
      members: [{ id: 'a', suffrage: 'voter' }],
      stopCause: 'disk full',
    };
    expect(showStatus(status)).toBe(
      [
        'id             a',
        'role           stopped',
        'stopped by     disk full',
        'leader         a',
        'term           3',
        'commit index   9',
        'applied index  9',
        'members        a (voter)',
      ].join('\n'),
    );
    const { stopCause: _, ...running } = status;
    expect(showStatus({ ...running, role: 'leader' })).not.toContain('stopped by');
  });
});
