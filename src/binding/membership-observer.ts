import type { Configuration } from '../core/types.js';

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
