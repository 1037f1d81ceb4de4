/**
 * A fake HTTP CONNECT proxy (port 0) that records the targets it tunnels to, for Sygnal's top-level
 * `proxy` key. It only relays bytes: TLS runs end to end through it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';

export interface FakeProxy {
  url: string;
  /** host:port of every CONNECT, in order. */
  tunnels: string[];
  /** Tunnels to these host:port targets answer 200 and then relay nothing (the far side never speaks). */
  blackhole: Set<string>;
  /** Wait this long before answering a CONNECT (a slow proxy). */
  delayMs: number;
  close(): Promise<void>;
}

export async function startFakeProxy(): Promise<FakeProxy> {
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405);
    res.end('CONNECT only');
  });
  const fake: FakeProxy = {
    url: '',
    tunnels: [],
    blackhole: new Set(),
    delayMs: 0,
    close: async () => {},
  };
  server.on('connect', async (req, client: Socket, head: Buffer) => {
    fake.tunnels.push(String(req.url));
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (fake.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, fake.delayMs));
    if (fake.blackhole.has(String(req.url))) {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      return;
    }
    const [host, port] = String(req.url).split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return fake;
}
