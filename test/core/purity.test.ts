import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf, sourceFiles } from '../support/source-files.js';

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

describe('src/core purity', () => {
  const files = sourceFiles(CORE);

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files.map((f) => [f.slice(CORE.length + 1), f]))(
    '%s uses no I/O, clock, timers or randomness',
    (_, file) => {
      const text = codeOf(file);
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
