/** `broker`: the embedded MQTT broker in the foreground, as `npm run broker` runs it. */
import { BROKER_FLAGS, BROKER_FLAGS_USAGE, brokerOptionsFromFlags } from '../../broker/flags.js';
import { startBroker } from '../../broker/index.js';
import { isRaftError } from '../errors.js';
import { parseCommandArgs } from './args.js';
import { CliError, UsageError } from './cli-error.js';
import type { Command } from './command.js';
import { untilSignal } from './signals.js';

export const brokerCommand: Command = {
  name: 'broker',
  usage: `Usage: mqtt-raft broker [--host 127.0.0.1] [--port 1883] [options]

Runs an MQTT 3.1.1 broker (aedes, in memory) until SIGINT or SIGTERM. Any MQTT 3.1.1 broker
(mosquitto, EMQX, HiveMQ, …) works as well. docs/security.md explains the TLS, credential and ACL
options.

${BROKER_FLAGS_USAGE}
  --help                  show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, BROKER_FLAGS);
    if (values.help === true) {
      process.stdout.write(`${brokerCommand.usage}\n`);
      return 0;
    }
    let broker: Awaited<ReturnType<typeof startBroker>>;
    try {
      broker = await startBroker(await brokerOptionsFromFlags(values));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Flags that parse can still be invalid (such as an empty --host or an unreadable file).
      if (isRaftError(err, 'INVALID_CONFIG')) throw new UsageError(message);
      throw new CliError(message);
    }
    // One line per listener, the plain one first (scripts read the first line for the URL).
    for (const url of Object.values(broker.urls)) console.log(`mqtt-raft broker listening on ${url}`);
    const signal = await untilSignal();
    console.log(`mqtt-raft broker: ${signal}, shutting down`);
    await broker.close();
    return 0;
  },
};
