/** `set`, `get`, `del`, `state` and `status`: one request to a running member each. */
import { type OptionSpec, parseCommandArgs } from './args.js';
import { CliError } from './cli-error.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_USAGE, clientTarget, expectOk } from './client-options.js';
import type { Command } from './command.js';
import { controlRequest } from './control-client.js';
import { type ControlRequest, type ControlResponse, decodeValue } from './control-protocol.js';
import { showStatus, showValue } from './format.js';

/** `get` exits with this code when the key has no value, so scripts can tell "absent" from "failed". */
export const EXIT_NOT_FOUND = 3;

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function printJson(response: ControlResponse): void {
  print(JSON.stringify(response));
}

/** Runs one request from parsed arguments; `show` prints a successful response as text. */
export async function request(
  argv: readonly string[],
  usage: string,
  positionals: readonly string[],
  build: (
    args: string[],
    values: Record<string, string | boolean | undefined>,
    timeoutMs: number,
  ) => ControlRequest,
  show: (response: Extract<ControlResponse, { ok: true }>, args: string[]) => number,
  extra: OptionSpec = {},
): Promise<number> {
  const { values, positionals: args } = parseCommandArgs(argv, { ...CLIENT_OPTIONS, ...extra }, positionals);
  if (values.help === true) {
    print(usage);
    return 0;
  }
  const target = clientTarget(values);
  const response = await controlRequest(target.path, build(args, values, target.timeoutMs), target.waitMs);
  if (target.json) {
    printJson(response);
    if (!response.ok) return 1;
    return response.found === false ? EXIT_NOT_FOUND : 0;
  }
  return show(expectOk(response), args);
}

const printIndex = (response: Extract<ControlResponse, { ok: true }>): number => {
  print(`OK (index ${response.index ?? '?'})`);
  return 0;
};

export const setCommand: Command = {
  name: 'set',
  usage: `Usage: mqtt-raft set <key> <value> [--control <path> | --data <dir>] [--timeout <ms>] [--json]

Proposes the change through the member (forwarded to the leader when needed) and prints
"OK (index N)" once it is committed and applied on the leader.

${CLIENT_OPTIONS_USAGE}`,
  run: (argv) =>
    request(
      argv,
      setCommand.usage,
      ['key', 'value'],
      ([key = '', value = ''], _values, timeoutMs) => ({
        cmd: 'set',
        key,
        value,
        encoding: 'utf8',
        timeoutMs,
      }),
      printIndex,
    ),
};

export const delCommand: Command = {
  name: 'del',
  usage: `Usage: mqtt-raft del <key> [--control <path> | --data <dir>] [--timeout <ms>] [--json]

Deletes the key through the member and prints "OK (index N)" once it is applied on the leader.
Deleting a key that has no value succeeds too.

${CLIENT_OPTIONS_USAGE}`,
  run: (argv) =>
    request(
      argv,
      delCommand.usage,
      ['key'],
      ([key = ''], _values, timeoutMs) => ({ cmd: 'del', key, timeoutMs }),
      printIndex,
    ),
};

export const getCommand: Command = {
  name: 'get',
  usage: `Usage: mqtt-raft get <key> [--linearizable] [--control <path> | --data <dir>] [--json]

Prints the key's value as the member knows it. Exit code ${EXIT_NOT_FOUND} when the key has no value.
Values that are not UTF-8 text are written as raw bytes, without a trailing newline.

  --linearizable    first confirm with the leader that the member has every write committed
                    before the call (default: the member's local state, which may lag)
${CLIENT_OPTIONS_USAGE}`,
  run: (argv) =>
    request(
      argv,
      getCommand.usage,
      ['key'],
      ([key = ''], values) => ({
        cmd: 'get',
        key,
        consistency: values.linearizable === true ? 'linearizable' : 'local',
      }),
      (response, [key]) => {
        if (response.found !== true || response.value === undefined) {
          throw new CliError(`no value for key '${key}'`, EXIT_NOT_FOUND);
        }
        if (response.encoding === 'base64') process.stdout.write(decodeValue(response.value, 'base64'));
        else print(response.value);
        return 0;
      },
      { linearizable: { type: 'boolean' } },
    ),
};

export const stateCommand: Command = {
  name: 'state',
  usage: `Usage: mqtt-raft state [--linearizable] [--control <path> | --data <dir>] [--json]

Prints the member's whole state, one "key = value" line per key in key order.

  --linearizable    first confirm with the leader that the member is up to date
${CLIENT_OPTIONS_USAGE}`,
  run: (argv) =>
    request(
      argv,
      stateCommand.usage,
      [],
      (_args, values) => ({
        cmd: 'state',
        consistency: values.linearizable === true ? 'linearizable' : 'local',
      }),
      (response) => {
        for (const entry of response.entries ?? []) print(`${entry.key} = ${showValue(entry)}`);
        return 0;
      },
      { linearizable: { type: 'boolean' } },
    ),
};

export const statusCommand: Command = {
  name: 'status',
  usage: `Usage: mqtt-raft status [--control <path> | --data <dir>] [--json]

${CLIENT_OPTIONS_USAGE}`,
  run: (argv) =>
    request(
      argv,
      statusCommand.usage,
      [],
      () => ({ cmd: 'status' }),
      (response) => {
        if (response.status === undefined) throw new CliError('the member sent no status');
        print(showStatus(response.status));
        return 0;
      },
    ),
};
