/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it throws
 * on any line it does not understand, on a sample of a family without `# TYPE`, and on a family
 * declared twice, so a test that reads metrics through it also checks their form.
 */

/** One sample line. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family: its TYPE and HELP lines and its samples. */
export interface PromFamily {
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  readonly help: string;
  readonly samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/** Parses `text` into families by name; throws an Error naming the line that is wrong. */
export function parsePromText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily & { help: string }>();
  const helps = new Map<string, string>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the text must end with a newline');
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new Error(`line ${i + 1} (${JSON.stringify(line)}): ${why}`);
    };
    if (line === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) fail('bad metric name');
      if (kind === 'HELP') helps.set(name, rest);
      else {
        if (!TYPES.has(rest)) fail('unknown type');
        if (families.has(name)) fail('family declared twice');
        families.set(name, { type: rest as PromFamily['type'], help: '', samples: [] });
      }
      return;
    }
    if (line.startsWith('#')) return;
    const sample = parseSample(line, fail);
    const family = familyOf(sample.name, families) ?? fail('a sample of a family without # TYPE');
    family.samples.push(sample);
  });
  for (const [name, family] of families) family.help = helps.get(name) ?? '';
  return families;
}

function familyOf(sample: string, families: Map<string, PromFamily>): PromFamily | undefined {
  for (const [name, family] of families) {
    const suffixes = SUFFIXES[family.type] ?? [''];
    if (suffixes.some((suffix) => sample === name + suffix)) return family;
  }
  return undefined;
}

function parseSample(line: string, fail: (why: string) => never): PromSample {
  const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line);
  if (match === null) return fail('not a sample line');
  const [, name = '', rawLabels, rawValue = ''] = match;
  const value = parseValue(rawValue) ?? fail('bad value');
  return { name, labels: rawLabels === undefined ? {} : parseLabels(rawLabels.slice(1, -1), fail), value };
}

function parseValue(raw: string): number | undefined {
  if (raw === '+Inf') return Number.POSITIVE_INFINITY;
  if (raw === '-Inf') return Number.NEGATIVE_INFINITY;
  if (raw === 'NaN') return Number.NaN;
  return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw) ? Number(raw) : undefined;
}

/** `a="x",b="y\"z"` (a trailing comma allowed), with the escapes `\\`, `\"` and `\n`. */
function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {};
  let at = 0;
  while (at < text.length) {
    const eq = text.indexOf('=', at);
    const name = text.slice(at, eq);
    if (eq === -1 || !LABEL_NAME.test(name)) fail('bad label name');
    if (name in labels) fail(`label ${name} given twice`);
    if (text[eq + 1] !== '"') fail('a label value must be quoted');
    let value = '';
    let i = eq + 2;
    for (; i < text.length && text[i] !== '"'; i++) {
      if (text[i] !== '\\') {
        value += text[i];
        continue;
      }
      const escaped = text[++i];
      if (escaped === 'n') value += '\n';
      else if (escaped === '\\' || escaped === '"') value += escaped;
      else fail('bad escape in a label value');
    }
    if (i >= text.length) fail('unterminated label value');
    labels[name] = value;
    at = i + 1;
    if (text[at] === ',') at++;
    else if (at < text.length) fail('labels must be separated by commas');
  }
  return labels;
}

/** The value of the one sample of `family` named `name` (the family's own name by default) with `labels`. */
export function sampleValue(
  families: Map<string, PromFamily>,
  family: string,
  labels: Record<string, string> = {},
  name = family,
): number | undefined {
  const samples = families.get(family)?.samples ?? [];
  const wanted = Object.entries(labels);
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === wanted.length &&
      wanted.every(([k, v]) => s.labels[k] === v),
  );
  if (found.length > 1) throw new Error(`${family}: ${found.length} samples match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}
