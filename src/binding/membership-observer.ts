import type { Configuration } from '../core/types.js';
import { ObserverQueue } from './observer-queue.js';

/** A member joining or leaving the group, as the committed configuration says. */
export interface MembershipChange {
  readonly id: string;
  readonly joined: boolean;
}

/** The changes that turn the member set `before` into `after`: leaves first, then joins, each sorted. */
export function membershipDiff(before: ReadonlySet<string>, after: ReadonlySet<string>): MembershipChange[] {
  const left = [...before].filter((id) => !after.has(id)).sort();
  const joined = [...after].filter((id) => !before.has(id)).sort();
  return [...left.map((id) => ({ id, joined: false })), ...joined.map((id) => ({ id, joined: true }))];
}

/** Every server of a configuration counts as a member, voter or not. */
export function membersOf(configuration: Configuration): Set<string> {
  return new Set(configuration.servers.map((s) => s.id));
}

/**
 * The committed membership as observers see it: the current member ids, and one bounded queue per
 * observer, each fed every change in commit order after a replay of the members.
 */
export class MembershipFeed {
  private ids = new Set<string>();
  private readonly observers = new Set<ObserverQueue<MembershipChange>>();

  constructor(private readonly queueLimit: number) {}

  /** The ids of the newest committed configuration applied here. */
  get current(): ReadonlySet<string> {
    return this.ids;
  }

  /** A configuration was committed and applied: observers get what changed. */
  committed(configuration: Configuration): void {
    const next = membersOf(configuration);
    const changes = membershipDiff(this.ids, next);
    this.ids = next;
    for (const queue of [...this.observers]) for (const change of changes) queue.push(change);
  }

  /** Replays the current members (`joined: true`), then every committed change once, in order. */
  observe(signal: AbortSignal | undefined): AsyncIterable<MembershipChange> {
    const queue = new ObserverQueue<MembershipChange>({
      limit: this.queueLimit,
      replay: [...this.ids].sort().map((id) => ({ id, joined: true })),
      onDetach: (q) => this.observers.delete(q),
      signal,
      what: 'membership observer',
    });
    if (!queue.isDetached) this.observers.add(queue);
    return queue;
  }

  /** Ends every observer. */
  close(): void {
    for (const queue of [...this.observers]) queue.close();
  }
}
