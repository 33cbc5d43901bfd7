/**
 * A TCP proxy on 127.0.0.1 that can play a server going away and coming back: the bench's
 * database outage rows and the PostgreSQL restart tests connect through it, so the real server
 * is never touched.
 */
import net from 'node:net';

/** A TCP proxy to `upstream` that can simulate the server going away (`down`) and coming back (`up`). */
export class FlakyProxy {
  private readonly server: net.Server;
  private readonly open = new Set<net.Socket>();
  private isDown = false;
  port = 0;

  constructor(private readonly upstream: { host: string; port: number }) {
    this.server = net.createServer((client) => this.accept(client));
  }

  /** A started proxy in front of the server of connection string `url`, and the same URL through the proxy. */
  static async inFrontOf(url: string): Promise<{ proxy: FlakyProxy; url: string }> {
    const target = new URL(url);
    const proxy = new FlakyProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    return { proxy, url: viaProxy.toString() };
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Every open connection dies at once and new ones are reset, as during a server restart. */
  down(): void {
    this.isDown = true;
    for (const s of this.open) s.destroy();
    this.open.clear();
  }

  up(): void {
    this.isDown = false;
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.isDown) {
      client.resetAndDestroy();
      return;
    }
    const server = net.connect(this.upstream.port, this.upstream.host);
    for (const [a, b] of [
      [client, server],
      [server, client],
    ] as const) {
      this.open.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.open.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }
}
