import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CORE = join(import.meta.dirname, '../../src/core');

/** What src/core must never use: it stays deterministic and free of I/O (design §1, principle 1). */
const FORBIDDEN: ReadonlyArray<[string, RegExp]> = [
  ['a node: import', /from\s+['"]node:|import\(\s*['"]node:|require\(/],
  [
    'a Node built-in module import',
    /from\s+['"](fs|path|os|net|crypto|child_process|timers|events|worker_threads)['"]/,
  ],
  ['an import from outside the core (other than errors.ts)', /from\s+['"]\.\.\/(?!errors\.js)/],
  ['a package import', /from\s+['"][^./]/],
  ['Date', /\bDate\b/],
  ['Math.random', /Math\.random/],
  ['a timer', /\b(setTimeout|setInterval|setImmediate|queueMicrotask|performance|process)\b/],
];

function coreFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? coreFiles(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  );
}

/** Source text without comments, so prose about timers or dates does not count. */
function code(path: string): string {
  return readFileSync(path, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
}

describe('src/core purity', () => {
  const files = coreFiles(CORE);

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files.map((f) => [f.slice(CORE.length + 1), f]))(
    '%s uses no I/O, clock, timers or randomness',
    (_, file) => {
      const text = code(file);
      const found = FORBIDDEN.filter(([, pattern]) => pattern.test(text)).map(([what]) => what);
      expect(found).toEqual([]);
    },
  );

  it('the check itself flags a forbidden use', () => {
    const sample = "import { x } from 'node:fs';\nconst t = Date.now() + Math.random();";
    const found = FORBIDDEN.filter(([, pattern]) => pattern.test(sample)).map(([what]) => what);
    expect(found).toEqual(expect.arrayContaining(['a node: import', 'Date', 'Math.random']));
  });
});
