/**
 * A TCP proxy to a real server that a test can stall (stop forwarding, sockets left open: a hung
 * host) or take down (refuse connections: a dead one), and bring back on the same port.
 */
import net from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Stops forwarding bytes both ways; connections stay open, new ones are accepted and held. */
  stall(): void;
  /** Forwards again (held bytes included). */
  resume(): void;
  /** Closes the listener and every connection: new connections are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let stalled = false;
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => client.write(chunk));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
    if (stalled) {
      client.pause();
      upstream.pause();
    }
  });
  await listen(server, 0);
  const port = (server.address() as net.AddressInfo).port;
  const proxy: TcpProxy = {
    port,
    stall() {
      stalled = true;
      for (const [a, b] of pairs) {
        a.pause();
        b.pause();
      }
    },
    resume() {
      stalled = false;
      for (const [a, b] of pairs) {
        a.resume();
        b.resume();
      }
    },
    async down() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
      await closing;
    },
    up: () => listen(server, port),
    async close() {
      stalled = false;
      if (server.listening) await proxy.down();
    },
  };
  return proxy;
}

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await listen(server, 0);
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
