/**
 * `npm run broker`: runs the embedded MQTT broker in the foreground until SIGINT or SIGTERM.
 * Exit codes: 0 after a clean shutdown, 1 when the broker cannot start (such as a port in use),
 * 2 for bad arguments.
 */
import { parseArgs } from 'node:util';
import { isRaftError } from '../src/errors.js';
import { BROKER_FLAGS, BROKER_FLAGS_USAGE, brokerOptionsFromFlags } from './flags.js';
import { type BrokerOptions, startBroker } from './index.js';

const USAGE = `Usage: npm run broker -- [--host 127.0.0.1] [--port 1883] [options]

${BROKER_FLAGS_USAGE}
  --help                  show this help

docs/security.md explains the TLS, credential and ACL options.`;

/** A command-line mistake: reported with the usage text and exit code 2. */
class UsageError extends Error {}

/** Turns argv into broker options, throwing {@link UsageError} for anything it cannot use. */
async function parseOptions(argv: string[]): Promise<BrokerOptions | 'help'> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: { ...BROKER_FLAGS, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (err) {
    // parseArgs throws TypeErrors with a readable message for unknown options and missing values.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) return 'help';
  try {
    return await brokerOptionsFromFlags(values);
  } catch (err) {
    if (isRaftError(err, 'INVALID_CONFIG')) throw new UsageError(err.message);
    throw err;
  }
}

async function main(): Promise<number> {
  let options: BrokerOptions | 'help';
  try {
    options = await parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`mqtt-raft broker: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }

  let broker: Awaited<ReturnType<typeof startBroker>>;
  try {
    broker = await startBroker(options);
  } catch (err) {
    // Options that pass the parser can still be invalid (such as an empty --host): that is a usage error too.
    const usage = isRaftError(err, 'INVALID_CONFIG');
    console.error(`mqtt-raft broker: ${err instanceof Error ? err.message : String(err)}`);
    return usage ? 2 : 1;
  }
  // One line per listener, the plain one first (scripts read the first line for the URL).
  for (const url of Object.values(broker.urls)) console.log(`mqtt-raft broker listening on ${url}`);

  const running = broker;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal means the user does not want to wait for the clean shutdown.
        console.error(`mqtt-raft broker: ${signal} again, exiting now`);
        process.exit(1);
      }
      stopping = true;
      console.log(`mqtt-raft broker: ${signal}, shutting down`);
      running.close().then(
        () => resolve(0),
        (err: unknown) => {
          console.error(`mqtt-raft broker: error while closing: ${String(err)}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

// exitCode rather than process.exit(), so output is flushed and a leaked handle shows up as a hang in tests.
main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
