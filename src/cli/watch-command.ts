/** `watch`: prints the member's state, then every change, until interrupted. */
import { clientControlPath, parseCommandArgs, stringOption } from './args.js';
import { CliError, EXIT, exitCodeOf, UsageError } from './cli-error.js';
import { CLIENT_OPTIONS } from './client-options.js';
import type { Command } from './command.js';
import { controlWatch } from './control-client.js';
import type { ControlResponse } from './control-protocol.js';
import { showChange } from './format.js';

export const watchCommand: Command = {
  name: 'watch',
  usage: `Usage: mqtt-raft watch [--members | --from-index <n>] [--control <path> | --data <dir>] [--json]

Prints the member's current state as "set <key> = <value>" lines (in key order), then the line
"--- live after index <n> ---" (n: the log index the replayed state reflects), then every change
as it is applied on the member, prefixed by its log index ("<index> set <key> = <value>" or
"<index> del <key>"), exactly once and in log order, until interrupted (exit 0). Keys and values
are written as "state" writes them. Exit 1 when the member stops or the connection is lost.

  --from-index <n>  resume after index n: no replay, only the changes after it; refused (exit 1,
                    UNSUPPORTED) when the state changed after n, since a member keeps no history
  --members         watch the membership instead: "joined <id>" per current member, then
                    "--- live ---", then "joined <id>" / "left <id>" as the committed
                    configuration changes
  --control <path>  the member's control socket
  --data <dir>      the member's data directory (its socket is <dir>/control.sock)
                    (default: $MQTT_RAFT_CONTROL)
  --json            print the member's JSON lines instead of text
  --help            show this help`,
  async run(argv) {
    const { control, data, json } = CLIENT_OPTIONS;
    const { values } = parseCommandArgs(argv, {
      control,
      data,
      json,
      members: { type: 'boolean' },
      'from-index': { type: 'string' },
    });
    if (values.help === true) {
      process.stdout.write(`${watchCommand.usage}\n`);
      return 0;
    }
    const path = clientControlPath(values);
    const asJson = values.json === true;
    const target = values.members === true ? 'members' : 'state';
    const fromIndex = indexOption(stringOption(values, 'from-index'));
    if (fromIndex !== undefined && target === 'members') {
      throw new UsageError('--from-index is for a watch of the state, not --members');
    }
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const text = new WatchText();
      const end = await controlWatch(
        path,
        fromIndex === undefined ? { cmd: 'watch', target } : { cmd: 'watch', target, fromIndex },
        (response) => {
          const line = asJson ? JSON.stringify(response) : text.line(response);
          if (line !== null) process.stdout.write(`${line}\n`);
        },
        controller.signal,
      );
      if (end.reason === 'aborted') return 0;
      if (end.reason === 'refused') {
        const { code, message } = end.response.error;
        if (asJson) {
          process.stdout.write(`${JSON.stringify(end.response)}\n`);
          return exitCodeOf(code);
        }
        throw new CliError(`${code}: ${message}`, exitCodeOf(code), code);
      }
      throw new CliError(`lost the connection to the member at ${path}`, EXIT.FAILURE, 'CONNECTION_LOST');
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

/** The text form of a watch: replayed lines bare, the `live` line, then live lines with their index. */
class WatchText {
  private replayIndex: number | undefined;
  private live = false;

  line(response: Extract<ControlResponse, { ok: true }>): string | null {
    if (response.watching !== undefined) {
      this.replayIndex = response.index;
      return null;
    }
    if (response.live === true) {
      this.live = true;
      return this.replayIndex === undefined ? '--- live ---' : `--- live after index ${this.replayIndex} ---`;
    }
    const prefix = this.live && response.change?.index !== undefined ? `${response.change.index} ` : '';
    if (response.change !== undefined) return `${prefix}${showChange(response.change)}`;
    if (response.member !== undefined)
      return `${response.member.joined ? 'joined' : 'left'} ${response.member.id}`;
    return null;
  }
}

/** A log index: plain digits. */
function indexOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw))
    throw new UsageError(`--from-index must be a log index (digits), got '${raw}'`);
  return Number(raw);
}
