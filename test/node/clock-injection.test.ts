import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeOf, sourceFiles } from '../support/source-files.js';

const SRC = join(import.meta.dirname, '../../src');

/**
 * The node, the binding and the in-memory transport wait, time out and back off only through their
 * injected Clock (src/clock.ts), so a simulation can run the whole stack on simulated time. A direct
 * timer or clock read would escape it.
 */
const DIRECT_TIME =
  /(?<![.\w])(setTimeout|setInterval|setImmediate|clearTimeout|clearInterval)\s*\(|\bDate\.now\b|\bnew Date\b|\bperformance\.now\b/;

describe('time goes through the injected clock', () => {
  const checked = [
    ...sourceFiles(join(SRC, 'node')),
    ...sourceFiles(join(SRC, 'binding')),
    join(SRC, 'retry.ts'),
    ...sourceFiles(join(SRC, 'transport')).filter((f) => /[/\\]inmem-[^/\\]+\.ts$/.test(f)),
  ];

  it('has files to check', () => {
    expect(checked.length).toBeGreaterThan(10);
    expect(checked.filter((f) => f.includes('inmem-'))).toHaveLength(5);
  });

  it.each(checked.map((f) => [f.slice(SRC.length + 1), f]))(
    '%s uses no global timer or clock',
    (_name, path) => {
      const lines = codeOf(path)
        .split('\n')
        .map((line, i) => [i + 1, line] as const)
        .filter(([, line]) => DIRECT_TIME.test(line));
      expect(lines).toEqual([]);
    },
  );

  it('catches a direct timer (the pattern can fail)', () => {
    expect(DIRECT_TIME.test('const t = setTimeout(done, 5);')).toBe(true);
    expect(DIRECT_TIME.test('return Date.now() - start;')).toBe(true);
    expect(DIRECT_TIME.test('const t = this.clock.setTimeout(done, 5);')).toBe(false);
  });
});
