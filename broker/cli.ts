/**
 * `npm run broker`: runs the embedded MQTT broker in the foreground until SIGINT or SIGTERM.
 * Exit codes: 0 after a clean shutdown, 1 when the broker cannot start (such as a port in use),
 * 2 for bad arguments.
 */
import { parseArgs } from 'node:util';
import { isRaftError } from '../src/errors.js';
import { type BrokerOptions, startBroker } from './index.js';

const USAGE = `Usage: npm run broker -- [--host 127.0.0.1] [--port 1883] [--username U --password P]

  --host      interface to listen on (default 127.0.0.1)
  --port      TCP port, 0 for any free port (default 1883)
  --username  require this username; needs --password
  --password  require this password; needs --username (visible to other local users in the process list)
  --help      show this help`;

/** A command-line mistake: reported with the usage text and exit code 2. */
class UsageError extends Error {}

/** Turns argv into broker options, throwing {@link UsageError} for anything it cannot use. */
function parseOptions(argv: string[]): BrokerOptions | 'help' {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (err) {
    // parseArgs throws TypeErrors with a readable message for unknown options and missing values.
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help === true) return 'help';

  const options: BrokerOptions = {};
  if (values.host !== undefined) options.host = values.host;
  if (values.port !== undefined) {
    // Number('') is 0 and Number('1e3') is 1000, so insist on plain digits.
    if (!/^\d{1,5}$/.test(values.port) || Number(values.port) > 65535)
      throw new UsageError(`--port must be an integer from 0 to 65535, got '${values.port}'`);
    options.port = Number(values.port);
  }
  if ((values.username === undefined) !== (values.password === undefined))
    throw new UsageError('--username and --password must be given together');
  if (values.username !== undefined && values.password !== undefined)
    options.auth = { username: values.username, password: values.password };
  return options;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function main(): Promise<number> {
  let options: BrokerOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
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
  console.log(`mqtt-raft broker listening on ${broker.url}`);

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
