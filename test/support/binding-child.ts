/**
 * A RaftBinding in a child process, for tests that must kill a member for real (SIGKILL) rather
 * than close it: `node --import tsx test/support/binding-child.ts '<options as JSON>'`. It prints
 * `ready` once open and then stays up until killed.
 */
import { RaftBinding } from '../../src/index.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const binding = new RaftBinding(options);
binding.open().then(
  () => process.stdout.write('ready\n'),
  (err: unknown) => {
    process.stderr.write(`open failed: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
