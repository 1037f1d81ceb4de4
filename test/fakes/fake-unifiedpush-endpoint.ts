/**
 * A UnifiedPush endpoint (what a distributor such as ntfy exposes), over plain HTTP or TLS on port 0.
 * The answer is scripted by the path: /ok… 200, /created… 201, /gone… 410, /missing… 404,
 * /busy… 429, /fail… 500, /toolarge… 413, /hang… never answers. Every request is recorded.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ReceivedPush {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface FakeEndpoint {
  /** e.g. http://127.0.0.1:1234 */
  origin: string;
  port: number;
  received: ReceivedPush[];
  close(): Promise<void>;
}

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);

const SCRIPT: [string, number][] = [
  ['/ok', 200],
  ['/created', 201],
  ['/gone', 410],
  ['/missing', 404],
  ['/busy', 429],
  ['/fail', 500],
  ['/toolarge', 413],
];

function handle(received: ReceivedPush[]) {
  return (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (path.startsWith('/hang')) return;
      const status = SCRIPT.find(([prefix]) => path.startsWith(prefix))?.[1] ?? 404;
      response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  };
}

export async function startFakeEndpoint(
  options: { tls?: boolean; host?: string } = {},
): Promise<FakeEndpoint> {
  const received: ReceivedPush[] = [];
  const server: Server = options.tls
    ? createTlsServer(
        {
          cert: readFileSync(new URL('server.pem', TLS_DIR)),
          key: readFileSync(new URL('server.key', TLS_DIR)),
        },
        handle(received),
      )
    : createServer(handle(received));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    origin: `${options.tls ? 'https' : 'http'}://${hostPart}:${port}`,
    port,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
