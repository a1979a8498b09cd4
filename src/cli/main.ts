#!/usr/bin/env node
/**
 * `mqtt-raft`: the command-line tool. `broker` and `node` run a broker and a member in the
 * foreground; the client commands talk to a running member over its control socket (docs/cli.md).
 *
 * Exit codes (cli-error.ts): 0 success, 1 failure (no member running, broker unreachable, request
 * refused), 2 anything invalid, 3 `get` of a key that has no value.
 */
import type { Command } from './command.js';
import { reportFailure, wantsJson } from './report.js';
import { packageVersion } from './version.js';

/** Commands are loaded on use: a client command need not load the broker, Raft or LevelDB. */
const COMMANDS: ReadonlyArray<{ name: string; summary: string; load: () => Promise<Command> }> = [
  {
    name: 'broker',
    summary: 'run an embedded MQTT broker until interrupted',
    load: async () => (await import('./broker-command.js')).brokerCommand,
  },
  {
    name: 'node',
    summary: 'run a member of a group until interrupted',
    load: async () => (await import('./node-command.js')).nodeCommand,
  },
  {
    name: 'set',
    summary: 'set <key> <value>   set a key through a running member (or --file <path>, or - for stdin)',
    load: async () => (await import('./client-commands.js')).setCommand,
  },
  {
    name: 'get',
    summary: "get <key>           print a key's value (exit 3 when it has none)",
    load: async () => (await import('./client-commands.js')).getCommand,
  },
  {
    name: 'del',
    summary: 'del <key>           delete a key',
    load: async () => (await import('./client-commands.js')).delCommand,
  },
  {
    name: 'state',
    summary: 'print every key and value',
    load: async () => (await import('./client-commands.js')).stateCommand,
  },
  {
    name: 'watch',
    summary: 'print the state, then every change, until interrupted',
    load: async () => (await import('./watch-command.js')).watchCommand,
  },
  {
    name: 'members',
    summary: 'list the members (role, leader, health); remove, add, promote, demote one',
    load: async () => (await import('./member-commands.js')).membersCommand,
  },
  {
    name: 'leader',
    summary: 'print the leader; leader transfer [<id>] hands leadership over',
    load: async () => (await import('./member-commands.js')).leaderCommand,
  },
  {
    name: 'snapshot',
    summary: 'save <file> | restore <file>: back up the state, or start a new group from a backup',
    load: async () => (await import('./snapshot-command.js')).snapshotCommand,
  },
  {
    name: 'status',
    summary: "show a member's role, leader, term and indexes",
    load: async () => (await import('./client-commands.js')).statusCommand,
  },
];

const USAGE = `Usage: mqtt-raft <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.summary.startsWith(c.name) ? c.summary : `${c.name.padEnd(20)}${c.summary}`}`).join('\n')}

Client commands find the member through --control <path> (its control socket), --data <dir>
(<dir>/control.sock) or $MQTT_RAFT_CONTROL. Run 'mqtt-raft help <command>' for its options;
'mqtt-raft --version' (or 'version') prints the version.

Exit codes: 0 success, 1 failure, 2 anything invalid, 3 'get' of a key with no value.`;

/** After a command has finished, a handle left open must not keep the process alive. */
const EXIT_GRACE_MS = 3000;

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...after] = argv;
  // `version` too: npx answers `npx mqtt-raft --version` itself in some setups, with npm's version.
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  // `help <command>` is `<command> --help`.
  const [name, ...rest] = first === 'help' && after.length > 0 ? [...after, '--help'] : argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const stream = name === undefined ? process.stderr : process.stdout;
    stream.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry === undefined) {
    process.stderr.write(`mqtt-raft: unknown command '${name}'\n\n${USAGE}\n`);
    return 2;
  }
  const command = await entry.load();
  try {
    return await command.run(rest);
  } catch (err) {
    return reportFailure(err, { command: command.name, usage: command.usage, json: wantsJson(rest) });
  }
}

// exitCode rather than process.exit(), so output is flushed; the unref'd timer only fires if
// something (a socket, a timer) would otherwise keep the process running after the command ended.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), EXIT_GRACE_MS).unref();
  },
);
