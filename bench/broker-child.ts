/**
 * Child process: the embedded broker on 127.0.0.1, port 0; sends `{type:'ready', url}` to the parent.
 * Answers `{type:'publishes', rid}` with the PUBLISH packets clients have sent it so far.
 */
import { startBroker } from '../broker/index.js';
import { exitWithParent } from './util.js';

exitWithParent();
let publishes = 0;
const broker = await startBroker({
  host: '127.0.0.1',
  port: 0,
  // A client's publish has a client; the broker's own ($SYS heartbeats, wills) have none.
  instrument: (aedes) => aedes.on('publish', (_packet, client) => client !== null && publishes++),
});
process.send?.({ type: 'ready', url: broker.url });
process.on('message', (message: unknown) => {
  const m = message as { type?: string; rid?: number };
  if (m.type === 'publishes') process.send?.({ rid: m.rid, count: publishes });
});
process.on('SIGTERM', () => {
  void broker.close().finally(() => process.exit(0));
});
