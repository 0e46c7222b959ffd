// A TCP proxy in front of PostgreSQL that a test can cut and restore, to take a database away from a
// running server the way a network failure or a database restart does.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones (the server sees resets and ECONNREFUSED). */
  cut(): Promise<void>;
  /**
   * Stops forwarding without closing anything, like a network that silently drops packets: open
   * connections go quiet, new ones are accepted and never answered.
   */
  blackHole(): void;
  /** Forwards again, on the same port; connections held by a black hole are dropped. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let mode: 'forward' | 'black-hole' = 'forward';
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const listen = (port: number) =>
    new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer((client) => {
        track(client);
        client.on('error', () => client.destroy());
        if (mode === 'black-hole') {
          client.pause();
          return;
        }
        const upstream = net.connect(targetPort, targetHost);
        track(upstream);
        const fail = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', fail);
        upstream.on('error', fail);
        client.on('data', (chunk) => mode === 'forward' && upstream.write(chunk));
        upstream.on('data', (chunk) => mode === 'forward' && client.write(chunk));
        client.on('end', () => upstream.end());
        upstream.on('end', () => client.end());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });

  let server: net.Server | null = await listen(0);
  const port = (server.address() as AddressInfo).port;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const stop = async () => {
    const closing = server;
    server = null;
    dropAll();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  return {
    port,
    cut: stop,
    blackHole() {
      mode = 'black-hole';
    },
    async restore() {
      if (mode === 'black-hole') dropAll();
      mode = 'forward';
      if (!server) server = await listen(port);
    },
    close: stop,
  };
}
