import type { WireChange, WireMember, WireStatus, WireValue } from './control-protocol.js';

/** A value for display: text as is, other bytes as `base64:<data>`. */
export function showValue(value: WireValue): string {
  return value.encoding === 'utf8' ? value.value : `base64:${value.value}`;
}

/** A change as one line: `set <key> = <value>` or `del <key>`. */
export function showChange(change: WireChange): string {
  return change.op === 'set' ? `set ${change.key} = ${showValue(change)}` : `del ${change.key}`;
}

/** Members as aligned lines: id, suffrage, and `leader` on the leader's line. */
export function showMembers(members: readonly WireMember[]): string {
  const width = Math.max(0, ...members.map((m) => m.id.length));
  return members
    .map(
      (m) =>
        `${m.id.padEnd(width)}  ${m.leader ? m.suffrage.padEnd(8) : m.suffrage}${m.leader ? '  leader' : ''}`,
    )
    .join('\n');
}

/** A status as aligned `name  value` lines. */
export function showStatus(status: WireStatus): string {
  const rows: Array<[string, string]> = [
    ['id', status.id],
    ['role', status.role],
    ['leader', status.leader ?? '(none)'],
    ['term', String(status.term)],
    ['commit index', String(status.commitIndex)],
    ['applied index', String(status.appliedIndex)],
    ['members', status.members.map((m) => `${m.id} (${m.suffrage})`).join(', ')],
  ];
  return rows.map(([name, value]) => `${name.padEnd(14)} ${value}`).join('\n');
}
