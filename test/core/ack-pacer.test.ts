import { describe, expect, it } from 'vitest';
import { AckPacer } from '../../src/core/ack-pacer.js';
import type { Message, MessageDraft, RaftCore } from '../../src/core/index.js';
import { appendRequest, drain, entries, heartbeatRequest, mixedConfig, newCore, ofType } from './helpers.js';

function ok(index: number): MessageDraft {
  return { type: 'appendResponse', to: 'a', success: true, index, hintIndex: 0, hintTerm: 0 };
}

function refusal(index: number): MessageDraft {
  return { type: 'appendResponse', to: 'a', success: false, index, hintIndex: index - 1, hintTerm: 1 };
}

const beat: MessageDraft = { type: 'heartbeatResponse', to: 'a', context: 0 };

/** Ticks `pacer` `n` times; returns what each tick released. */
function ticks(pacer: AckPacer, n: number): MessageDraft[][] {
  return Array.from({ length: n }, () => pacer.tick());
}

/** A pacer that just sent its first answer: everyTicks 3, everyAppends 4. */
function afterFirstAnswer(): AckPacer {
  const pacer = new AckPacer(3, 4);
  expect(pacer.appendAnswer(ok(1))).toEqual([ok(1)]);
  return pacer;
}

describe('AckPacer', () => {
  it('sends the first answer at once', () => {
    expect(new AckPacer(3, 4).appendAnswer(ok(1))).toEqual([ok(1)]);
    expect(new AckPacer(3, 4).heartbeatAnswer(beat)).toEqual([beat]);
  });

  it('holds the successes that follow, and releases the newest by tick after everyTicks', () => {
    const pacer = afterFirstAnswer();
    expect(pacer.appendAnswer(ok(2))).toEqual([]);
    expect(pacer.appendAnswer(ok(3))).toEqual([]);
    expect(ticks(pacer, 3)).toEqual([[], [], [ok(3)]]);
    // Released once: nothing is held any more.
    expect(ticks(pacer, 4)).toEqual([[], [], [], []]);
  });

  it('counts the ticks from the last answer sent', () => {
    const pacer = afterFirstAnswer();
    ticks(pacer, 2);
    expect(pacer.appendAnswer(ok(2))).toEqual([]);
    expect(ticks(pacer, 1)).toEqual([[ok(2)]]);
  });

  it('sends a success at once when everyAppends of them are waiting', () => {
    const pacer = afterFirstAnswer();
    expect(pacer.appendAnswer(ok(2))).toEqual([]);
    expect(pacer.appendAnswer(ok(3))).toEqual([]);
    expect(pacer.appendAnswer(ok(4))).toEqual([]);
    expect(pacer.appendAnswer(ok(5))).toEqual([ok(5)]);
    expect(ticks(pacer, 2)).toEqual([[], []]);
  });

  it('answers a heartbeat only when an answer is due, and not while a success is held', () => {
    const pacer = afterFirstAnswer();
    expect(pacer.heartbeatAnswer(beat)).toEqual([]);
    expect(pacer.appendAnswer(ok(2))).toEqual([]);
    ticks(pacer, 2);
    // The held success will answer for the heartbeat too.
    expect(pacer.heartbeatAnswer(beat)).toEqual([]);
    expect(pacer.tick()).toEqual([ok(2)]);
    expect(pacer.heartbeatAnswer(beat)).toEqual([]);
    ticks(pacer, 3);
    expect(pacer.heartbeatAnswer(beat)).toEqual([beat]);
    // A heartbeat answer counts as an answer: the next one waits again.
    expect(pacer.heartbeatAnswer(beat)).toEqual([]);
    expect(pacer.appendAnswer(ok(3))).toEqual([]);
  });

  it('sends a refusal at once, drops the held success, and makes the next success due', () => {
    const pacer = afterFirstAnswer();
    expect(pacer.appendAnswer(ok(2))).toEqual([]);
    expect(pacer.now(refusal(5))).toEqual([refusal(5)]);
    expect(ticks(pacer, 3)).toEqual([[], [], []]);
    expect(pacer.appendAnswer(ok(3))).toEqual([ok(3)]);
    expect(pacer.appendAnswer(ok(4))).toEqual([]);
  });

  it('sends the answer to a snapshot at once, and the success after it too', () => {
    const pacer = afterFirstAnswer();
    expect(pacer.now(ok(40))).toEqual([ok(40)]);
    expect(pacer.appendAnswer(ok(41))).toEqual([ok(41)]);
  });

  it('forgets what it holds on clear(), and makes the next answer due', () => {
    const pacer = afterFirstAnswer();
    expect(pacer.appendAnswer(ok(2))).toEqual([]);
    pacer.clear();
    expect(ticks(pacer, 5)).toEqual([[], [], [], [], []]);
    const cleared = afterFirstAnswer();
    cleared.clear();
    expect(cleared.heartbeatAnswer(beat)).toEqual([beat]);
    cleared.clear();
    expect(cleared.appendAnswer(ok(3))).toEqual([ok(3)]);
  });
});

describe('a non-voter paces its answers to the leader', () => {
  const config = mixedConfig(['a', 'b', 'c'], ['d']);

  /** Steps `m` into `core` (addressed to it) and returns the answers of the Ready that follows. */
  function answers(core: RaftCore, m: Message): Message[] {
    core.step({ ...m, to: core.id });
    return drain(core).messages.filter((x) => x.type === 'appendResponse' || x.type === 'heartbeatResponse');
  }

  function appendOf(index: number): Message {
    return appendRequest('a', '?', 1, {
      prevIndex: index - 1,
      prevTerm: index === 1 ? 0 : 1,
      entries: entries(index, [1]),
    });
  }

  it("holds a non-voter's successes for nonvoterAckTicks while a voter answers each at once", () => {
    const voter = newCore('b', config);
    const observer = newCore('d', config, { options: { nonvoterAckTicks: 3 } });
    const seen = { voter: [] as number[], observer: [] as number[] };
    for (let index = 1; index <= 4; index++) {
      seen.voter.push(...ofType(answers(voter, appendOf(index)), 'appendResponse').map((m) => m.index));
      seen.observer.push(...ofType(answers(observer, appendOf(index)), 'appendResponse').map((m) => m.index));
    }
    expect(seen.voter).toEqual([1, 2, 3, 4]);
    // The first answer is due at once; 2-4 wait, and the newest covers them.
    expect(seen.observer).toEqual([1]);
    expect(answers(voter, heartbeatRequest('a', 'b', 1, 0))).toHaveLength(1);
    expect(answers(observer, heartbeatRequest('a', 'd', 1, 0))).toEqual([]);
    const released: Message[] = [];
    for (let t = 0; t < 3; t++) {
      observer.tick();
      if (observer.hasReady()) released.push(...drain(observer).messages);
    }
    expect(ofType(released, 'appendResponse').map((m) => [m.index, m.success])).toEqual([[4, true]]);
  });

  it("sends a non-voter's refusal at once", () => {
    const observer = newCore('d', config);
    expect(answers(observer, appendOf(1))).toHaveLength(1);
    const gap = appendRequest('a', 'd', 1, { prevIndex: 5, prevTerm: 1, entries: entries(6, [1]) });
    expect(ofType(answers(observer, gap), 'appendResponse').map((m) => m.success)).toEqual([false]);
  });
});
