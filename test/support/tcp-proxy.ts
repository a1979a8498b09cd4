import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 to another local port, whose link can be cut and healed: cutting
 * destroys every relayed connection and, until healed, every new one as soon as it arrives. Both
 * ends see a dead TCP link while their processes keep running, as with a network failure between
 * two sites (the listening port stays held, so nothing else can take it meanwhile). With
 * `delayMs`, every chunk is held that long in each direction, in order: a distant link.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private isCut = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly delayMs: number,
  ) {}

  static async start(targetPort: number, options: { delayMs?: number } = {}): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((inbound) => proxy?.relay(inbound, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('the proxy has no port');
    proxy = new TcpProxy(server, address.port, options.delayMs ?? 0);
    return proxy;
  }

  private relay(inbound: Socket, targetPort: number): void {
    if (this.isCut) {
      inbound.destroy();
      return;
    }
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      this.sockets.add(from);
      if (this.delayMs === 0) from.pipe(to);
      // Timers of one delay fire in the order they were set, so the stream keeps its order.
      else from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), this.delayMs));
      // Either side ending or failing ends the pair, as a broken link does.
      from.once('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      from.on('error', () => to.destroy());
    }
  }

  /** Breaks every relayed connection and refuses new ones until {@link heal}. */
  cut(): void {
    this.isCut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  heal(): void {
    this.isCut = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
