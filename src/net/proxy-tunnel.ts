/**
 * Sygnal's top-level `proxy`: an HTTP CONNECT tunnel (RFC 9110 §9.3.6) to a push service's host,
 * inside which Herald runs its own TLS and HTTP/2, so the proxy sees the host name and nothing
 * else. Credentials in the proxy URL are sent as Basic Proxy-Authorization. Used by APNs and FCM,
 * whose hosts are fixed by the operator; never for client-chosen endpoints (Web Push, UnifiedPush),
 * where the proxy's own DNS lookup would bypass the address check.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';

/** Opens a raw TCP tunnel to `origin`'s host and port through `proxyUrl`. */
export function openProxyTunnel(proxyUrl: string, origin: string, timeoutMs: number): Promise<Socket> {
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

/**
 * The tunnel, then TLS with ALPN h2 to `origin` inside it. The handshake has its own `timeoutMs`:
 * a proxy that answers 200 but whose far side never speaks would otherwise leave it pending forever.
 */
export async function openTlsThroughProxy(
  proxyUrl: string,
  origin: string,
  timeoutMs: number,
  tlsOptions: ConnectionOptions = {},
): Promise<TLSSocket> {
  const socket = await openProxyTunnel(proxyUrl, origin, timeoutMs);
  const { hostname } = new URL(origin);
  // SNI carries host names only (RFC 6066 §3); an IP address is checked against the certificate.
  const servername = isIP(hostname) === 0 ? hostname : undefined;
  return new Promise<TLSSocket>((resolve, reject) => {
    const secure = tls.connect({
      socket,
      host: hostname,
      ALPNProtocols: ['h2'],
      ...(servername ? { servername } : {}),
      ...tlsOptions,
    });
    const timer = setTimeout(() => {
      secure.destroy(new Error(`TLS handshake through the proxy timed out after ${timeoutMs} ms`));
      socket.destroy();
    }, timeoutMs);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(secure);
    });
    secure.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
