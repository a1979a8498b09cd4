/** `snapshot save` and `snapshot restore`: backups of the key-value state (src/binding/backup.ts). */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decodeBackup, encodeBackup, restoreBackup } from '../binding/backup.js';
import { isRaftError } from '../errors.js';
import { RaftStore } from '../storage/raft-store.js';
import { parseCommandArgs, stringOption } from './args.js';
import { CliError, EXIT, UsageError } from './cli-error.js';
import { CLIENT_OPTIONS, CLIENT_OPTIONS_USAGE, clientTarget, expectOk } from './client-options.js';
import type { Command } from './command.js';
import { controlRequest } from './control-client.js';
import { decodeValue } from './control-protocol.js';

export const snapshotCommand: Command = {
  name: 'snapshot',
  usage: `Usage: mqtt-raft snapshot save <file> [--control <path> | --data <dir>] [--timeout <ms>] [--json]
       mqtt-raft snapshot restore <file> --data <dir> --id <id> [--json]

save     asks a running member for its state, confirmed with the leader to hold every write
         committed before the request, and writes it with its log index to <file> (replaced
         whole, never left half-written). Prints "saved N keys at index I to <file>".
restore  writes a backup into a fresh data directory as a new group whose only member is <id>
         (with a new group id). Then start it: mqtt-raft node --id <id> --data <dir> --broker <url>;
         it leads at once with the backup's state, and other members join it as usual. Run the new
         group under another --cluster name than the old one while the old one is live.

  --id <id>         restore: the member that starts the new group
${CLIENT_OPTIONS_USAGE}`,
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { ...CLIENT_OPTIONS, id: { type: 'string' } }, [
      'save|restore',
      'file',
    ]);
    if (values.help === true) {
      process.stdout.write(`${snapshotCommand.usage}\n`);
      return EXIT.OK;
    }
    const [action, file = ''] = positionals;
    const report = (text: string, json: object): number => {
      process.stdout.write(`${values.json === true ? JSON.stringify({ ok: true, ...json }) : text}\n`);
      return EXIT.OK;
    };
    if (action === 'save') {
      if (values.id !== undefined) throw new UsageError('--id is for restore');
      const { index, keys } = await save(file, values);
      return report(`saved ${keys} keys at index ${index} to ${file}`, { index, keys, file: resolve(file) });
    }
    if (action === 'restore') {
      const { index, keys, data, id } = await restore(file, values);
      return report(
        `restored ${keys} keys at index ${index} into ${data}; start it with: mqtt-raft node --id ${id} --data ${data} --broker <url>`,
        { index, keys, data },
      );
    }
    throw new UsageError(`unknown action '${action}': save or restore`);
  },
};

async function save(
  file: string,
  values: Record<string, string | boolean | undefined>,
): Promise<{ index: number; keys: number }> {
  const target = clientTarget(values);
  const response = expectOk(
    await controlRequest(target.path, { cmd: 'state', consistency: 'linearizable' }, target.waitMs),
  );
  const index = response.index;
  if (index === undefined) throw new CliError('the member did not say which index its state reflects');
  const pairs = (wire: typeof response.entries) =>
    (wire ?? []).map((e) => [e.key, decodeValue(e.value, e.encoding)] as const);
  const entries = pairs(response.entries);
  // The group's settings (its voter budget) go with the state: a restored group keeps them.
  const bytes = await encodeBackup({ index, entries, settings: pairs(response.settings) });
  // Written aside, then renamed over the target: a crash leaves the old file or the new one.
  const partial = `${file}.partial`;
  try {
    await writeFile(partial, bytes);
    await rename(partial, file);
  } catch (err) {
    throw new CliError(`cannot write ${file}: ${(err as Error).message}`);
  }
  return { index, keys: entries.length };
}

async function restore(
  file: string,
  values: Record<string, string | boolean | undefined>,
): Promise<{ index: number; keys: number; data: string; id: string }> {
  const data = stringOption(values, 'data');
  const id = stringOption(values, 'id');
  if (data === undefined || id === undefined)
    throw new UsageError('restore needs --data <dir> and --id <id>');
  if (values.control !== undefined || values.timeout !== undefined) {
    throw new UsageError('restore works on a data directory, without a member: no --control or --timeout');
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const backup = await decodeBackup(bytes);
    const store = await RaftStore.open(resolve(data));
    try {
      await restoreBackup(store, backup, id);
    } finally {
      await store.close();
    }
    return { index: backup.index, keys: backup.entries.length, data: resolve(data), id };
  } catch (err) {
    if (isRaftError(err, 'INVALID_INPUT')) throw new UsageError(err.message);
    if (isRaftError(err)) throw new CliError(`${file}: ${err.message}`, EXIT.FAILURE, err.code);
    throw err;
  }
}
