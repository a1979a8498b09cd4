/** Starts the embedded broker in its own child process. */
import type { ChildProcess } from 'node:child_process';
import { forkBench, IpcPeer, stopGracefully } from './util.js';

export interface BrokerProcess {
  url: string;
  child: ChildProcess;
  /** The PUBLISH packets clients have sent the broker so far. */
  publishes(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBrokerProcess(): Promise<BrokerProcess> {
  const child = forkBench('./broker-child.ts');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('broker did not start within 15 s')), 15_000);
    child.once('exit', (code) => reject(new Error(`broker exited with code ${code}`)));
    child.on('message', (m: unknown) => {
      const msg = m as { type?: string; url?: string };
      if (msg.type === 'ready' && typeof msg.url === 'string') {
        clearTimeout(timer);
        resolve(msg.url);
      }
    });
  });
  const peer = new IpcPeer(child);
  return {
    url,
    child,
    publishes: async () => (await peer.request<{ count: number }>({ type: 'publishes' }, 5000)).count,
    stop: () => stopGracefully(child),
  };
}
