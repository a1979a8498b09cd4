/** `members` (list, remove, add, promote, demote) and `leader` (show, transfer): member management. */
import type { OptionSpec } from './args.js';
import { UsageError } from './cli-error.js';
import { print, request } from './client-commands.js';
import { CLIENT_OPTIONS_USAGE } from './client-options.js';
import type { Command } from './command.js';
import type { ControlRequest, ControlResponse } from './control-protocol.js';
import { showMembers } from './format.js';

type Success = Extract<ControlResponse, { ok: true }>;

/** Prints a change's warnings (stderr) and its index. */
function printChange(command: string): (response: Success) => number {
  return (response) => {
    for (const warning of response.warnings ?? [])
      process.stderr.write(`mqtt-raft ${command}: warning: ${warning}\n`);
    print(`OK (index ${response.index ?? '?'})`);
    return 0;
  };
}

/** A `members` action: its options and the request it sends for member `id`. */
interface MemberAction {
  options: OptionSpec;
  build: (
    id: string,
    values: Record<string, string | boolean | undefined>,
    timeoutMs: number,
  ) => ControlRequest;
}

/** An action that a guard rail may refuse, and that `--force` lets through. */
function forceable(cmd: 'remove-member' | 'demote'): MemberAction {
  return {
    options: { force: { type: 'boolean' } },
    build: (member, values, timeoutMs) => ({ cmd, member, force: values.force === true, timeoutMs }),
  };
}

const MEMBER_ACTIONS: Record<string, MemberAction> = {
  remove: forceable('remove-member'),
  add: {
    options: { 'non-voter': { type: 'boolean' } },
    build: (member, values, timeoutMs) => {
      if (values['non-voter'] !== true) {
        throw new UsageError(
          'members add needs --non-voter: a voter joins by starting its member (mqtt-raft node)',
        );
      }
      return { cmd: 'add-nonvoter', member, timeoutMs };
    },
  },
  promote: { options: {}, build: (member, _values, timeoutMs) => ({ cmd: 'promote', member, timeoutMs }) },
  demote: forceable('demote'),
};

export const membersCommand: Command = {
  name: 'members',
  usage: `Usage: mqtt-raft members [list] [--control <path> | --data <dir>] [--json]
       mqtt-raft members remove <id> [--force]
       mqtt-raft members add <id> --non-voter
       mqtt-raft members promote <id>
       mqtt-raft members demote <id> [--force]

list (the default) prints every member of the group's latest configuration: id, role (voter,
nonvoter, or staging: a new voter still catching up), "leader" on the leader's line and, when the
member asked leads, each member's health: time since the leader last heard from it, its match
index and how many entries it lags. Only the leader knows its peers' health.

  remove <id>     removes a member, live or dead (one that is gone for good). Refused for the
                  member asked itself (stop it instead), for the last voter, and, asked on the
                  leader, when the voters left would not have a live majority (unless --force).
                  Warns when the group is left without fault tolerance.
  add <id> --non-voter
                  adds a non-voter: it receives the log, never votes. A voter joins by starting
                  its member (mqtt-raft node).
  promote <id>    makes a non-voter a voter; it votes once it has caught up
  demote <id>     makes a voter a non-voter, with the guard rails of remove
  --force         remove or demote even when the voters left would not have a live majority
${CLIENT_OPTIONS_USAGE}`,
  run(argv) {
    const [first, ...rest] = argv;
    const action =
      first !== undefined && Object.hasOwn(MEMBER_ACTIONS, first) ? MEMBER_ACTIONS[first] : undefined;
    if (action === undefined) {
      const args = first === 'list' ? rest : argv;
      return request(
        args,
        membersCommand.usage,
        [],
        () => ({ cmd: 'members' }),
        (response) => {
          print(showMembers(response.members ?? []));
          return 0;
        },
      );
    }
    return request(
      rest,
      membersCommand.usage,
      ['id'],
      ([id = ''], values, timeoutMs) => action.build(id, values, timeoutMs),
      printChange('members'),
      action.options,
    );
  },
};

export const leaderCommand: Command = {
  name: 'leader',
  usage: `Usage: mqtt-raft leader [--control <path> | --data <dir>] [--json]
       mqtt-raft leader transfer [<id>]

Without an action, prints the leader as the member knows it ("(none)" when it knows none).
"transfer" asks the member, which must lead, to hand leadership to voter <id>, or to the most
up-to-date voter, and prints the new leader once known.

${CLIENT_OPTIONS_USAGE}`,
  run(argv) {
    const [first, ...rest] = argv;
    if (first === 'transfer') {
      return request(
        rest,
        leaderCommand.usage,
        ['id?'],
        ([member], _values, timeoutMs) =>
          member === undefined
            ? { cmd: 'transfer-leadership', timeoutMs }
            : { cmd: 'transfer-leadership', member, timeoutMs },
        (response) => {
          print(response.leader == null ? 'OK (no leader known yet)' : `OK (leader: ${response.leader})`);
          return 0;
        },
      );
    }
    return request(
      argv,
      leaderCommand.usage,
      [],
      () => ({ cmd: 'status' }),
      (response) => {
        print(response.status?.leader ?? '(none)');
        return 0;
      },
    );
  },
};
