/**
 * docs/cli.md and the README's command list against the code: every command the CLI has is
 * documented and every documented command exists; every option a command's help lists is in
 * docs/cli.md, and every option docs/cli.md lists for `node` and `broker` is one they take.
 */
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { REPO } from '../support/cli-process.js';
import { CliRunner, cliEnv } from '../support/cli-runner.js';

const cli = new CliRunner(cliEnv(), 60_000);
const OPTION = /--[a-z][a-z-]+/g;

/** The options named in `text`. */
function options(text: string): Set<string> {
  return new Set(text.match(OPTION) ?? []);
}

/** The lines of a markdown section, from its heading to the next heading of the same or a higher level. */
function section(markdown: string, heading: string): string {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`no section ${heading}`);
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const end = lines.findIndex(
    (line, i) => i > start && /^#+ /.test(line) && (/^#+/.exec(line)?.[0].length ?? 0) <= level,
  );
  return lines.slice(start, end === -1 ? undefined : end).join('\n');
}

it('docs/cli.md and the README list exactly the commands and options the CLI has', async () => {
  const [usage, docs, readme] = await Promise.all([
    cli.run(['help']),
    readFile(`${REPO}docs/cli.md`, 'utf8'),
    readFile(`${REPO}README.md`, 'utf8'),
  ]);
  const commandBlock = usage.stdout.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
  const commands = commandBlock.split('\n').map((line) => line.trim().split(/\s+/)[0] ?? '');
  expect(commands).toContain('watch');

  // The command table (the section's first table): the first word of each row's first cell.
  const lines = section(docs, '## Commands').split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const after = lines.findIndex((line, i) => i > first && !line.startsWith('|'));
  const table = lines.slice(first, after).filter((line) => /^\| `/.test(line));
  const documented = new Set(table.map((row) => /^\| `([a-z]+)/.exec(row)?.[1]));
  expect([...documented].sort()).toEqual([...new Set(commands)].sort());
  const readmeList = section(readme, '## Command line');
  for (const command of commands)
    expect(readmeList, `README: mqtt-raft ${command}`).toContain(`mqtt-raft ${command} `);

  const helps = await Promise.all(commands.map((command) => cli.run(['help', command])));
  helps.forEach((help, i) => {
    const command = commands[i];
    expect(help.code, `help ${command}`).toBe(0);
    for (const option of options(help.stdout))
      expect(docs, `docs/cli.md: ${command} ${option}`).toContain(option);
  });
  for (const command of ['node', 'broker']) {
    const rows = section(docs, `### \`${command}\``)
      .split('\n')
      .filter((line) => line.startsWith('| `--'));
    const help = helps[commands.indexOf(command)]?.stdout ?? '';
    for (const row of rows) {
      for (const option of options(row.split(' | ')[0] ?? ''))
        expect(help, `mqtt-raft ${command}: ${option}`).toContain(option);
    }
  }
}, 180_000);
