/** Child process: the embedded broker on 127.0.0.1, port 0; sends `{type:'ready', url}` to the parent. */
import { startBroker } from '../broker/index.js';
import { exitWithParent } from './util.js';

exitWithParent();
const broker = await startBroker({ host: '127.0.0.1', port: 0 });
process.send?.({ type: 'ready', url: broker.url });
process.on('SIGTERM', () => {
  void broker.close().finally(() => process.exit(0));
});
