import type { Message } from '../../src/core/index.js';

interface TraceEvent {
  readonly tick: number;
  readonly kind: string;
  readonly detail: object;
}

/** A ring buffer of the latest events of a run, formatted only when a violation needs it. */
export class Trace {
  private readonly events: TraceEvent[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  add(tick: number, kind: string, detail: object): void {
    const event = { tick, kind, detail };
    if (this.events.length < this.capacity) this.events.push(event);
    else this.events[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
  }

  format(): string[] {
    const ordered =
      this.events.length < this.capacity
        ? this.events
        : [...this.events.slice(this.next), ...this.events.slice(0, this.next)];
    return ordered.map((e) => `t${e.tick} ${e.kind} ${describeEvent(e)}`);
  }
}

/** A multicast's copy as one recipient stepped it, and the whole group it went to. */
export interface MulticastDelivery {
  readonly message: Message;
  readonly group: readonly string[];
}

function describeEvent(e: TraceEvent): string {
  if (e.kind === 'deliver') return describeMessage(e.detail as Message);
  if (e.kind === 'multicast') {
    const { message, group } = e.detail as MulticastDelivery;
    return `${describeMessage(message)} group=${group.join(',')}`;
  }
  return JSON.stringify(e.detail);
}

/** A one-line description of a message. */
export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} term=${m.term}`;
  switch (m.type) {
    case 'voteRequest':
      return `${head}${m.preVote ? ' pre' : ''} last=${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'voteResponse':
      return `${head}${m.preVote ? ' pre' : ''} granted=${m.granted}`;
    case 'appendRequest':
      return `${head} prev=${m.prevIndex}/${m.prevTerm} n=${m.entries.length} commit=${m.commit}`;
    case 'appendResponse':
      return `${head} ${m.success ? 'ok' : 'reject'} index=${m.index} hint=${m.hintIndex}/${m.hintTerm}`;
    case 'heartbeatRequest':
      return `${head} commit=${m.commit}`;
    default:
      return head;
  }
}
