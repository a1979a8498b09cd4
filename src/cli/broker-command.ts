/** `broker`: the embedded MQTT broker in the foreground, as `npm run broker` runs it. */
import { type BrokerOptions, startBroker } from '../../broker/index.js';
import { isRaftError } from '../errors.js';
import { parseCommandArgs, stringOption } from './args.js';
import { CliError, UsageError } from './cli-error.js';
import type { Command } from './command.js';
import { untilSignal } from './signals.js';

export const brokerCommand: Command = {
  name: 'broker',
  usage: `Usage: mqtt-raft broker [--host 127.0.0.1] [--port 1883] [--username U --password P]

Runs an MQTT 3.1.1 broker (aedes, in memory) until SIGINT or SIGTERM. Any MQTT 3.1.1 broker
(mosquitto, EMQX, HiveMQ, …) works as well.

  --host      interface to listen on (default 127.0.0.1)
  --port      TCP port, 0 for any free port (default 1883)
  --username  require this username; needs --password
  --password  require this password; needs --username (visible to other local users in the process list)
  --help      show this help`,
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
    });
    if (values.help === true) {
      process.stdout.write(`${brokerCommand.usage}\n`);
      return 0;
    }
    const options: BrokerOptions = {};
    const host = stringOption(values, 'host');
    if (host !== undefined) options.host = host;
    const port = stringOption(values, 'port');
    if (port !== undefined) {
      if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
        throw new UsageError(`--port must be an integer from 0 to 65535, got '${port}'`);
      }
      options.port = Number(port);
    }
    const username = stringOption(values, 'username');
    const password = stringOption(values, 'password');
    if ((username === undefined) !== (password === undefined)) {
      throw new UsageError('--username and --password must be given together');
    }
    if (username !== undefined && password !== undefined) options.auth = { username, password };

    let broker: Awaited<ReturnType<typeof startBroker>>;
    try {
      broker = await startBroker(options);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Options that pass the parser can still be invalid (such as an empty --host).
      if (isRaftError(err, 'INVALID_CONFIG')) throw new UsageError(message);
      throw new CliError(message);
    }
    console.log(`mqtt-raft broker listening on ${broker.url}`);
    const signal = await untilSignal();
    console.log(`mqtt-raft broker: ${signal}, shutting down`);
    await broker.close();
    return 0;
  },
};
