import type { WireChange, WireHealth, WireMember, WireStatus, WireValue } from './control-protocol.js';

/**
 * Text that cannot be mistaken: any control, format or unassigned character, or whitespace other
 * than a plain space.
 */
const UNCLEAR = /[\p{C}]|[^\S ]/u;

/** What JSON leaves raw but a terminal would not show plainly: invisible and line-separating characters. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\u2028\u2029]/gu;

/** A JSON string literal in which every invisible character is escaped, so it shows what it holds. */
function quote(text: string): string {
  return JSON.stringify(text).replace(INVISIBLE, (c) =>
    Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join(
      '',
    ),
  );
}

/**
 * A key for display: as is when it is one visible word, else quoted as a JSON string (a key with
 * a space, a newline, or starting with `"`), so `key = value` lines always split one way.
 */
export function showKey(key: string): string {
  return key === '' || UNCLEAR.test(key) || key.includes(' ') || key.startsWith('"') ? quote(key) : key;
}

/**
 * A value for display: text as is when it reads unambiguously (visible characters and inner
 * spaces); other text quoted as a JSON string (empty, a newline or control character, spaces at
 * either end, or starting with `"` or `base64:`); bytes that are not UTF-8 as `base64:<data>`.
 */
export function showValue(value: WireValue): string {
  if (value.encoding === 'base64') return `base64:${value.value}`;
  const text = value.value;
  const plain =
    text !== '' &&
    !UNCLEAR.test(text) &&
    text.trim() === text &&
    !text.startsWith('"') &&
    !text.startsWith('base64:');
  return plain ? text : quote(text);
}

/** A change as one line: `set <key> = <value>` or `del <key>`. */
export function showChange(change: WireChange): string {
  return change.op === 'set'
    ? `set ${showKey(change.key)} = ${showValue(change)}`
    : `del ${showKey(change.key)}`;
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
