/** `node`: runs one member of a group in the foreground, serving the control socket. */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type BindingOptions, RaftBinding } from '../binding/index.js';
import { isRaftError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RaftMetrics } from '../metrics/index.js';
import { groupKeysFromEnv, readGroupKeyFile } from '../transport/group-key.js';
import {
  type EnvDefaults,
  memberControlPath,
  msOption,
  type OptionValues,
  parseCommandArgs,
  stringOption,
} from './args.js';
import { CliError, UsageError } from './cli-error.js';
import type { Command } from './command.js';
import {
  CONNECTION_OPTIONS,
  CONNECTION_OPTIONS_USAGE,
  connectionSettings,
  PASSWORD_ENV,
} from './connection-options.js';
import { startControlServer } from './control-server.js';
import { type MetricsServer, startMetricsServer } from './metrics-server.js';
import { reportChanges } from './node-reporter.js';
import {
  OBSERVABILITY_OPTIONS,
  OBSERVABILITY_OPTIONS_USAGE,
  observabilitySettings,
} from './observability-options.js';
import { untilSignal } from './signals.js';
import { checkSocketPathLength } from './socket-path.js';

/** `--startup-timeout` may come from MQTT_RAFT_STARTUP_TIMEOUT; the password variable keeps its own rule. */
const NODE_ENV: EnvDefaults = { prefix: 'MQTT_RAFT_', except: ['password'] };

export const nodeCommand: Command = {
  name: 'node',
  usage: `Usage: mqtt-raft node --id <id> --broker <url> [--cluster <name>] [--data <dir>] [--bootstrap]
                     [--control <path>] [--username U --password-file F] [--tls-ca F]
                     [--key-file <path>] [--log-format text|json] [--log-level <level>]
                     [--metrics-port <port>] [timeouts]

Runs a member until SIGINT or SIGTERM, then leaves the group (its data is kept) and exits 0.
Prints the members, joins, leaves and leader changes; "ready" once it serves its control socket.
Logs what the node does on stderr.

  --id <id>               this member's stable id (no '/', '+', '#')
  --broker <url>          the MQTT broker, such as mqtt://127.0.0.1:1883
  --cluster <name>        groups sharing a broker are told apart by name (default: default)
  --data <dir>            LevelDB directory; without it the state lives in memory only
  --bootstrap             create the group if this store is fresh (one member, once); a member
                          without it joins the group through its leader
  --observer              join as an observer: replicate and observe, never vote (README,
                          "Voters and observers")
  --voters <n>            the group's voter budget, 1 to 15: with --bootstrap it is set for the
                          group; elsewhere this member joins as a non-voter, promoted by the
                          leader while voters are missing (default: no budget)
  --voter-loss-timeout <ms>  under a budget, replace a voter silent this long (default 30000)
  --control <path>        control socket for the client commands
                          (default: <data>/control.sock, or a file in the temporary directory)
${CONNECTION_OPTIONS_USAGE}
  --key-file <path>       the group key: seal every message with it (docs/security.md); one key
                          per line, the first seals, the others only open (a rotation)
                          (default: $MQTT_RAFT_GROUP_KEY; without either the group is unauthenticated)
${OBSERVABILITY_OPTIONS_USAGE}
  --heartbeat-timeout <ms>, --election-timeout <ms>   Raft timing (default 1000 each)
  --startup-timeout <ms>  how long starting or joining may take (default 10000)
  --dead-member-timeout <ms>  as leader, remove a member silent this long (default: never)
  --help                  show this help

Every option may come from the environment instead: MQTT_RAFT_<OPTION>, such as MQTT_RAFT_ID,
MQTT_RAFT_BROKER, MQTT_RAFT_STARTUP_TIMEOUT, MQTT_RAFT_BOOTSTRAP=1 (also true/yes, 0/false/no);
the command line wins. The password's variable is $${PASSWORD_ENV} (used with a username).`,
  async run(argv) {
    const { values } = parseCommandArgs(
      argv,
      {
        id: { type: 'string' },
        broker: { type: 'string' },
        cluster: { type: 'string' },
        data: { type: 'string' },
        bootstrap: { type: 'boolean' },
        observer: { type: 'boolean' },
        voters: { type: 'string' },
        'voter-loss-timeout': { type: 'string' },
        control: { type: 'string' },
        ...CONNECTION_OPTIONS,
        'key-file': { type: 'string' },
        ...OBSERVABILITY_OPTIONS,
        'heartbeat-timeout': { type: 'string' },
        'election-timeout': { type: 'string' },
        'startup-timeout': { type: 'string' },
        'dead-member-timeout': { type: 'string' },
      },
      [],
      { env: NODE_ENV },
    );
    if (values.help === true) {
      process.stdout.write(`${nodeCommand.usage}\n`);
      return 0;
    }
    const id = stringOption(values, 'id');
    const broker = stringOption(values, 'broker');
    if (id === undefined) throw new UsageError('--id is required');
    if (broker === undefined) throw new UsageError('--broker is required');
    const { logger, metrics: metricsAddress } = observabilitySettings(values, id);
    const cluster = stringOption(values, 'cluster') ?? 'default';
    const data = stringOption(values, 'data');
    const controlPath = memberControlPath(stringOption(values, 'control'), data, cluster, id);
    try {
      checkSocketPathLength(controlPath);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }

    // Loaded only when asked for: prom-client adds to every member's start-up otherwise.
    const metrics = metricsAddress === null ? null : new (await import('../metrics/index.js')).RaftMetrics();
    const options = await memberOptions(values, { id, broker, cluster, data, logger, metrics });

    let binding: RaftBinding;
    try {
      binding = new RaftBinding(options);
    } catch (err) {
      // The constructor checks the broker URL and the id, before anything is created on disk.
      if (isRaftError(err, 'INVALID_CONFIG'))
        throw new UsageError(`cannot start member ${id}: ${err.message}`);
      throw err;
    }
    const log = (line: string): void => console.log(`mqtt-raft node ${id}: ${line}`);
    const stopped = untilSignal((signal) =>
      console.error(`mqtt-raft node ${id}: ${signal} again, exiting now`),
    );
    let signalled: NodeJS.Signals | null = null;
    void stopped.then((signal) => {
      signalled = signal;
    });

    if (data !== undefined) {
      await mkdir(data, { recursive: true }).catch((err: Error) => {
        throw new CliError(`cannot create the data directory ${data}: ${err.message}`);
      });
    }
    const store = data === undefined ? 'in-memory store' : `data ${resolve(data)}`;
    log(
      `starting (broker ${broker}, cluster ${cluster}, ${store}${options.bootstrap === true ? ', bootstrap' : ''})`,
    );
    // Before open(): a busy port is reported before the member joins, and a join can be watched.
    const metricsServer = metrics === null ? null : await serveMetrics(metrics, metricsAddress);
    if (metricsServer !== null) log(`metrics ${metricsServer.url}`);
    try {
      await binding.open();
    } catch (err) {
      await metricsServer?.close();
      const message = `cannot start member ${id}: ${err instanceof Error ? err.message : String(err)}`;
      // Options checked only on open (the broker URL's form, the id's characters) are argument mistakes too.
      if (isRaftError(err, 'INVALID_CONFIG')) throw new UsageError(message);
      throw new CliError(message);
    }

    let stopReporting = (): void => undefined;
    let server: Awaited<ReturnType<typeof startControlServer>> | null = null;
    try {
      if (signalled === null) {
        server = await startControlServer(controlPath, binding);
        stopReporting = reportChanges(binding, log);
        log(`ready; control socket ${controlPath}`);
      }
      const signal = await stopped;
      log(`${signal}: leaving the group`);
    } finally {
      stopReporting();
      server?.stop();
      await binding.close();
      await server?.close();
      await metricsServer?.close();
    }
    log('stopped');
    return 0;
  },
};

/** The binding's options from the flags; `base` holds what the command has read already. */
async function memberOptions(
  values: OptionValues,
  base: {
    id: string;
    broker: string;
    cluster: string;
    data: string | undefined;
    logger: Logger;
    metrics: RaftMetrics | null;
  },
): Promise<BindingOptions> {
  const { id, broker, cluster, data, logger, metrics } = base;
  const options: BindingOptions = {
    id,
    broker,
    cluster,
    store: data === undefined ? '' : resolve(data),
    logger,
  };
  if (metrics !== null) options.metrics = metrics;
  if (values.bootstrap === true) options.bootstrap = true;
  if (values.observer === true) options.role = 'observer';
  const voters = stringOption(values, 'voters');
  if (voters !== undefined) {
    if (!/^\d{1,2}$/.test(voters) || Number(voters) < 1 || Number(voters) > 15) {
      throw new UsageError(`--voters must be a whole number from 1 to 15, got '${voters}'`);
    }
    options.voters = Number(voters);
  }
  const voterLossTimeout = msOption(values, 'voter-loss-timeout');
  if (voterLossTimeout !== undefined) options.voterLossTimeout = voterLossTimeout;
  Object.assign(options, await connectionSettings(values));
  Object.assign(options, await groupKeyOption(stringOption(values, 'key-file')));
  const heartbeatTimeout = msOption(values, 'heartbeat-timeout');
  if (heartbeatTimeout !== undefined) options.heartbeatTimeout = heartbeatTimeout;
  const electionTimeout = msOption(values, 'election-timeout');
  if (electionTimeout !== undefined) options.electionTimeout = electionTimeout;
  const startupTimeout = msOption(values, 'startup-timeout');
  if (startupTimeout !== undefined) options.startupTimeout = startupTimeout;
  const deadMemberTimeout = msOption(values, 'dead-member-timeout');
  if (deadMemberTimeout !== undefined) options.deadMemberTimeout = deadMemberTimeout;
  return options;
}

/** Starts the metrics endpoint; a port that cannot be had ends the command. */
async function serveMetrics(
  metrics: RaftMetrics,
  address: { host: string; port: number } | null,
): Promise<MetricsServer | null> {
  if (address === null) return null;
  try {
    return await startMetricsServer(metrics, address);
  } catch (err) {
    throw new CliError(
      `cannot serve metrics on ${address.host}:${address.port}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

/** The key options from `--key-file`, else from the environment (the binding reads it), else none. */
async function groupKeyOption(keyFile: string | undefined): Promise<Partial<BindingOptions>> {
  let keys: Uint8Array[] | null;
  try {
    keys = keyFile === undefined ? groupKeysFromEnv() : await readGroupKeyFile(keyFile);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [groupKey, ...previousGroupKeys] = keys ?? [];
  // Without a key the transport logs a warning that the group is unauthenticated.
  return groupKey === undefined ? {} : { groupKey, previousGroupKeys };
}
