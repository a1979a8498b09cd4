/**
 * Every TypeScript snippet of the README runs as written: each is extracted, its imports of
 * `mqtt-raft` and `mqtt-raft/broker` pointed at the sources (the package's own name resolves only
 * once installed), and run as a program with tsx in an empty directory; it must exit 0.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/cli-process.js';

const run = promisify(execFile);
const TEST_MS = 120_000;

/** The README's ```ts blocks, each with the heading it stands under. */
function snippets(readme: string): Array<{ heading: string; code: string }> {
  const found: Array<{ heading: string; code: string }> = [];
  let heading = '';
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('#')) heading = line;
    if (line !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    found.push({ heading, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return found;
}

const readme = await readFile(join(REPO, 'README.md'), 'utf8');
const blocks = snippets(readme);
let dir: string;

/** What each snippet prints, as its comments say. */
const EXPECTED = [
  /^set brightness\n80\n$/,
  /^3 gw-1:voter gw-2:voter gw-3:voter gw-4:nonvoter sensor-1:nonvoter\n$/,
  /^leader a\n$/,
  /^\d+ \d+ x=1\n$/,
  /\[ 'x=1' \]\n$/,
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-readme-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
});

describe('the README snippets', () => {
  it('are found', () => {
    expect(blocks.map((b) => b.heading)).toEqual([
      '## RaftBinding: a replicated key-value state',
      '## RaftBinding: a replicated key-value state',
      '## MQTT',
      '## The Raft node',
      '## The core',
    ]);
  });

  it.each(blocks.map((block, i) => ({ ...block, i })))(
    'run as written: $heading',
    async ({ code, i }) => {
      const source = code
        .replaceAll("from 'mqtt-raft/broker'", `from '${pathToFileURL(join(REPO, 'broker/index.ts')).href}'`)
        .replaceAll("from 'mqtt-raft'", `from '${pathToFileURL(join(REPO, 'src/index.ts')).href}'`);
      const cwd = await mkdtemp(join(dir, `snippet-${i}-`));
      const file = join(cwd, 'snippet.mts');
      await writeFile(file, source);
      const tsx = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
      // A snippet that throws exits non-zero, and execFile rejects.
      const { stdout, stderr } = await run(process.execPath, ['--import', tsx, file], {
        cwd,
        timeout: TEST_MS,
      });
      expect(stderr).toBe('');
      // Each prints what its comments say.
      expect(stdout).toMatch(EXPECTED[i] ?? /^$/);
    },
    TEST_MS,
  );
});
