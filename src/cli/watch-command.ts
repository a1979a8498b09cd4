/** `watch`: prints the member's state, then every change, until interrupted. */
import { clientControlPath, parseCommandArgs } from './args.js';
import { CliError } from './cli-error.js';
import { CLIENT_OPTIONS } from './client-options.js';
import type { Command } from './command.js';
import { controlWatch } from './control-client.js';
import { showChange } from './format.js';

export const watchCommand: Command = {
  name: 'watch',
  usage: `Usage: mqtt-raft watch [--members] [--control <path> | --data <dir>] [--json]

Prints the member's current state as "set <key> = <value>" lines (in key order), then every
change as it is applied on the member ("set …" or "del <key>"), exactly once and in log order,
until interrupted (exit 0). Exit 1 when the member stops or the connection is lost.

  --members         watch the membership instead: "joined <id>" per current member, then
                    "joined <id>" / "left <id>" as the committed configuration changes
  --control <path>  the member's control socket
  --data <dir>      the member's data directory (its socket is <dir>/control.sock)
                    (default: $MQTT_RAFT_CONTROL)
  --json            print the member's JSON lines instead of text
  --help            show this help`,
  async run(argv) {
    const { control, data, json } = CLIENT_OPTIONS;
    const { values } = parseCommandArgs(argv, { control, data, json, members: { type: 'boolean' } });
    if (values.help === true) {
      process.stdout.write(`${watchCommand.usage}\n`);
      return 0;
    }
    const path = clientControlPath(values);
    const asJson = values.json === true;
    const target = values.members === true ? 'members' : 'state';
    const controller = new AbortController();
    const stop = (): void => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const end = await controlWatch(
        path,
        { cmd: 'watch', target },
        (response) => {
          if (asJson) {
            process.stdout.write(`${JSON.stringify(response)}\n`);
          } else if (response.change !== undefined) {
            process.stdout.write(`${showChange(response.change)}\n`);
          } else if (response.member !== undefined) {
            process.stdout.write(`${response.member.joined ? 'joined' : 'left'} ${response.member.id}\n`);
          }
        },
        controller.signal,
      );
      if (end.reason === 'aborted') return 0;
      if (end.reason === 'refused') {
        const { code, message } = end.response.error;
        throw new CliError(`${code}: ${message}`);
      }
      throw new CliError(`lost the connection to the member at ${path}`);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
