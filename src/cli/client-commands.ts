/** `set`, `get`, `del`, `state` and `status`: one request to a running member each. */
import { type OptionSpec, parseCommandArgs, stringOption } from './args.js';
import { CliError, EXIT, exitCodeOf } from './cli-error.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_USAGE, clientTarget, expectOk } from './client-options.js';
import type { Command } from './command.js';
import { controlRequest } from './control-client.js';
import {
  type ControlRequest,
  type ControlResponse,
  decodeValue,
  MAX_VALUE_BYTES,
} from './control-protocol.js';
import { showKey, showStatus, showValue } from './format.js';
import { readValue, wireValue } from './value-input.js';

/** `get` exits with this code when the key has no value, so scripts can tell "absent" from "failed". */
export const EXIT_NOT_FOUND = EXIT.NOT_FOUND;

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
  ) => ControlRequest | Promise<ControlRequest>,
  show: (response: Extract<ControlResponse, { ok: true }>, args: string[]) => number,
  extra: OptionSpec = {},
  optional: readonly string[] = [],
): Promise<number> {
  const { values, positionals: args } = parseCommandArgs(argv, { ...CLIENT_OPTIONS, ...extra }, positionals, {
    optional,
  });
  if (values.help === true) {
    print(usage);
    return 0;
  }
  const target = clientTarget(values);
  const built = await build(args, values, target.timeoutMs);
  const response = await controlRequest(target.path, built, target.waitMs);
  if (target.json) {
    printJson(response);
    if (!response.ok) return exitCodeOf(response.error.code);
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
       mqtt-raft set <key> --file <path> | mqtt-raft set <key> -

Proposes the change through the member (forwarded to the leader when needed) and prints
"OK (index N)" once it is committed and applied on the leader. The value is the argument as UTF-8
text, or the bytes of a file (--file) or of standard input ('-') exactly as they are, up to
${MAX_VALUE_BYTES} bytes. A value that starts with '-' goes after '--': set <key> -- -x
(a negative number needs no '--': set temp -5).

  --file <path>     read the value from this file
${CLIENT_OPTIONS_USAGE}`,
  run: (argv) =>
    request(
      argv,
      setCommand.usage,
      ['key'],
      async ([key = '', value], values, timeoutMs) => ({
        cmd: 'set',
        key,
        ...wireValue(await readValue(value, stringOption(values, 'file'))),
        timeoutMs,
      }),
      printIndex,
      { file: { type: 'string' } },
      ['value'],
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
          throw new CliError(`no value for key ${showKey(key ?? '')}`, EXIT_NOT_FOUND, 'NOT_FOUND');
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

Prints the member's whole state, one "key = value" line per key in key order. A key or value that
would not read unambiguously (empty, with a newline or other control character, spaces at either
end, starting with a quote) is written as a JSON string; bytes that are not UTF-8 as base64:<data>.

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
        for (const entry of response.entries ?? []) print(`${showKey(entry.key)} = ${showValue(entry)}`);
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
