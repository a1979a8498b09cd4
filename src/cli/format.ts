import type { WireChange, WireMember, WireStatus, WireValue } from './control-protocol.js';

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
