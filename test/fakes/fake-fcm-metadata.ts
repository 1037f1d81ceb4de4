/**
 * A fake GCE/GKE metadata server (plain HTTP, port 0), enough for Application Default Credentials
 * in google-auth-library: it demands `Metadata-Flavor: Google` as the real one does and hands out
 * access tokens for the default service account.
 * https://cloud.google.com/compute/docs/access/authenticate-workloads#applications
 * Point google-auth-library at it with GCE_METADATA_HOST=127.0.0.1:<port>.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeMetadata {
  host: string;
  /** Scopes asked for with each token request. */
  tokenRequests: string[];
  issued: Set<string>;
  close(): Promise<void>;
}

export async function startFakeMetadata(): Promise<FakeMetadata> {
  const fake: FakeMetadata = { host: '', tokenRequests: [], issued: new Set(), close: async () => {} };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://metadata');
    if (req.headers['metadata-flavor'] !== 'Google') {
      res.writeHead(403);
      return res.end('Missing Metadata-Flavor: Google');
    }
    const reply = (body: string, type = 'application/json') => {
      res.writeHead(200, { 'content-type': type, 'metadata-flavor': 'Google' });
      res.end(body);
    };
    if (url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token') {
      fake.tokenRequests.push(url.searchParams.get('scopes') ?? '');
      const token = `metadata-token-${fake.tokenRequests.length}`;
      fake.issued.add(token);
      return reply(JSON.stringify({ access_token: token, expires_in: 3599, token_type: 'Bearer' }));
    }
    if (url.pathname === '/computeMetadata/v1/project/project-id')
      return reply('metadata-project', 'text/plain');
    if (url.pathname === '/computeMetadata/v1/instance') return reply('{}');
    res.writeHead(404, { 'metadata-flavor': 'Google' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
