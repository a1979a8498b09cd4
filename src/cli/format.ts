import type { WireChange, WireHealth, WireMember, WireStatus, WireValue } from './control-protocol.js';

/** A value for display: text as is, other bytes as `base64:<data>`. */
export function showValue(value: WireValue): string {
  return value.encoding === 'utf8' ? value.value : `base64:${value.value}`;
}

/** A change as one line: `set <key> = <value>` or `del <key>`. */
export function showChange(change: WireChange): string {
  return change.op === 'set' ? `set ${change.key} = ${showValue(change)}` : `del ${change.key}`;
}

/**
 * Members as aligned columns: id, role, `leader` on the leader's line, and the health the leader
 * reports (last contact, match index, lag); trailing blanks trimmed.
 */
export function showMembers(members: readonly WireMember[]): string {
  const rows = members.map((m) => [m.id, m.suffrage, m.leader ? 'leader' : '', showHealth(m.health)]);
  const widths = [0, 1, 2].map((col) => Math.max(0, ...rows.map((row) => (row[col] as string).length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function showHealth(health: WireHealth | null): string {
  if (health === null) return '';
  const contact = health.lastContactMs === null ? 'never' : `${health.lastContactMs} ms ago`;
  return `last contact ${contact}, match ${health.matchIndex}, lag ${health.lag}`;
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
  if (status.stopCause !== undefined) rows.splice(2, 0, ['stopped by', status.stopCause]);
  return rows.map(([name, value]) => `${name.padEnd(14)} ${value}`).join('\n');
}
