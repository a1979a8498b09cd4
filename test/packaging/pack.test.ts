/**
 * The package as users get it: a copy of the sources without any build (as a fresh clone has them)
 * is packed with `npm pack`, whose `prepare` script builds `dist`; the tarball is installed into an
 * empty project, where `npx mqtt-raft --version` and imports of `mqtt-raft` and `mqtt-raft/broker`
 * must work. Installing needs the registry (or npm's cache) for the dependencies.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { REPO } from '../support/cli-process.js';

const run = promisify(execFile);
/** Building and installing take a minute or more on a loaded two-core machine. */
const TEST_MS = 600_000;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

let dir: string | null = null;

afterAll(async () => {
  if (dir !== null) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
});

/** Runs a command, logging how long it took: the time this test adds to CI is watched. */
async function timed(what: string, file: string, args: string[], cwd: string): Promise<string> {
  const started = performance.now();
  const { stdout } = await run(file, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  console.log(`pack test: ${what} took ${Math.round(performance.now() - started)} ms`);
  return stdout;
}

it(
  'npm pack of a fresh copy builds dist; the installed tarball runs mqtt-raft and imports both entry points',
  async () => {
    dir = await mkdtemp(join(tmpdir(), 'mqtt-raft-pack-'));
    const source = join(dir, 'source');
    await mkdir(source);
    for (const entry of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'README.md',
      'src',
      'broker',
    ]) {
      await cp(join(REPO, entry), join(source, entry), { recursive: true });
    }
    // The build's tools (TypeScript) and type packages, without installing them again.
    await symlink(join(REPO, 'node_modules'), join(source, 'node_modules'), 'dir');

    const packed = JSON.parse(
      await timed(
        'npm pack (with the prepare build)',
        npm,
        ['pack', '--json', '--pack-destination', dir],
        source,
      ),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const [tarball] = packed;
    if (tarball === undefined) throw new Error('npm pack reported no tarball');
    const files = tarball.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/src/cli/main.js',
        'dist/src/index.js',
        'dist/src/index.d.ts',
        'dist/broker/index.js',
        'package.json',
      ]),
    );
    expect(files.filter((f) => !f.startsWith('dist/') && f !== 'package.json' && f !== 'README.md')).toEqual(
      [],
    );

    const app = join(dir, 'app');
    await mkdir(app);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module' }),
    );
    await timed(
      'npm install of the tarball',
      npm,
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        join(dir, tarball.filename),
      ],
      app,
    );

    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string };
    // The installed binary itself, then as npx finds it (given `version`, which npx cannot take for its own flag).
    const bin = join(app, 'node_modules', '.bin', 'mqtt-raft');
    expect(await timed('mqtt-raft --version', bin, ['--version'], app)).toBe(`${pkg.version}\n`);
    expect(await timed('npx mqtt-raft version', npx, ['--no', 'mqtt-raft', 'version'], app)).toBe(
      `${pkg.version}\n`,
    );
    const imports = `
    const lib = await import('mqtt-raft');
    const broker = await import('mqtt-raft/broker');
    console.log(typeof lib.RaftBinding, typeof lib.Raft, typeof broker.startBroker);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', imports], { cwd: app });
    expect(stdout).toBe('function function function\n');
  },
  TEST_MS,
);
