/** The `node` command's metrics endpoint: `GET /metrics` in the Prometheus text format. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RaftMetrics } from '../metrics/index.js';

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The URL Prometheus scrapes. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `metrics` on `host`:`port` (0: a free port); resolves once it listens. */
export async function startMetricsServer(
  metrics: RaftMetrics,
  address: { host: string; port: number },
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('use GET\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, text }) => response.writeHead(200, { 'content-type': contentType }).end(text),
      (err: unknown) =>
        response
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection must not hold the member's exit.
        server.closeAllConnections();
      }),
  };
}
