/**
 * Sygnal's top-level `proxy` for APNs: an HTTP CONNECT tunnel (RFC 9110 §9.3.6) to Apple's host,
 * inside which Herald runs its own TLS (client certificate included) and HTTP/2, so the proxy sees
 * the host name and nothing else. Credentials in the proxy URL go as Basic Proxy-Authorization.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

/** Opens a raw TCP tunnel to `origin`'s host and port through `proxyUrl`. */
export function openTunnel(proxyUrl: string, origin: string, timeoutMs: number): Promise<Socket> {
  const proxy = new URL(proxyUrl);
  const target = new URL(origin);
  const authority = `${target.hostname}:${target.port || '443'}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return new Promise<Socket>((resolve, reject) => {
    const request = (proxy.protocol === 'https:' ? https : http).request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers,
      timeout: timeoutMs,
    });
    request.once('timeout', () => request.destroy(new Error(`proxy CONNECT timeout after ${timeoutMs} ms`)));
    request.once('error', reject);
    request.once('connect', (response, socket: Socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`the proxy refused CONNECT ${authority}: ${response.statusCode}`));
        return;
      }
      resolve(socket);
    });
    request.end();
  });
}
