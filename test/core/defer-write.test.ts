import { describe, expect, it } from 'vitest';
import type { Message, Ready } from '../../src/core/index.js';
import { appendRequest, drain, entries, mixedConfig, newCore, ofType, text } from './helpers.js';

const config = mixedConfig(['a', 'b', 'c'], ['d']);

function appendOf(to: string, index: number): Message {
  return appendRequest('a', to, 1, {
    prevIndex: index - 1,
    prevTerm: index === 1 ? 0 : 1,
    entries: entries(index, [1]),
  });
}

/** Whether a Ready's write may wait, with what it carries: `entries/messages:now|defer`. */
function describeReady(core: { mayDeferWrite(r: Ready): boolean }, ready: Ready): string {
  const messages = ready.messages.length + ready.earlyMessages.length;
  return `${ready.entries.length}/${messages}:${core.mayDeferWrite(ready) ? 'defer' : 'now'}`;
}

describe('RaftCore.mayDeferWrite', () => {
  it("lets a non-voter defer a Ready's write only while it sends nothing", () => {
    const observer = newCore('d', config, { options: { nonvoterAckTicks: 2 } });
    const seen: string[] = [];
    for (let index = 1; index <= 3; index++) {
      observer.step(appendOf('d', index));
      const ready = observer.ready();
      seen.push(describeReady(observer, ready));
      observer.advance(ready);
    }
    // The first answer goes at once; the next two are held, and so may their writes be.
    expect(seen).toEqual(['1/1:now', '1/0:defer', '1/0:defer']);
    observer.tick();
    observer.tick();
    const release = observer.ready();
    expect(ofType(release.messages, 'appendResponse').map((m) => m.index)).toEqual([3]);
    expect(observer.mayDeferWrite(release)).toBe(false);
  });

  it("never defers a voter's write, even of a Ready that sends nothing: a lone leader counts its own log", () => {
    const alone = newCore('a', ['a']);
    alone.campaign();
    drain(alone);
    expect(alone.status().role).toBe('leader');
    expect(alone.propose(text('x')).accepted).toBe(true);
    const ready = alone.ready();
    expect(ready.entries).toHaveLength(1);
    expect(ready.messages.length + ready.earlyMessages.length).toBe(0);
    expect(alone.mayDeferWrite(ready)).toBe(false);
  });

  it("never defers a voter follower's write: its answer acknowledges it", () => {
    const voter = newCore('b', config);
    voter.step(appendOf('b', 1));
    expect(describeReady(voter, voter.ready())).toBe('1/1:now');
  });
});
