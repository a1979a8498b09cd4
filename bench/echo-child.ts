/**
 * Child process: the responder of the raw MQTT baseline. Echoes every `bench/req` payload to
 * `bench/resp` (QoS 1), so that a raw round trip crosses processes exactly as a Raft message
 * between two members does. Argument: the broker URL; sends `{type:'ready'}` once subscribed.
 */
import { connect } from 'mqtt';
import { exitWithParent } from './util.js';

exitWithParent();
const [url = ''] = process.argv.slice(2);
const client = connect(url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
client.on('connect', () => {
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  client.on('message', (_topic, payload) => {
    client.publish('bench/resp', payload, { qos: 1 });
  });
  client.subscribeAsync('bench/req', { qos: 1 }).then(
    () => process.send?.({ type: 'ready' }),
    (err: unknown) => {
      process.stderr.write(`echo-child: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
process.on('SIGTERM', () => {
  void client.endAsync(true).finally(() => process.exit(0));
});
