/**
 * Sygnal's top-level `proxy` for FCM: an HTTP CONNECT tunnel (RFC 9110 §9.3.6) through which the
 * TLS + HTTP/2 session to FCM runs, so the proxy sees only the host name, never the pushes.
 * Credentials in the proxy URL are sent as Basic Proxy-Authorization.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';

/** Opens `proxyUrl` → CONNECT host:port → TLS with ALPN h2 to `origin`. */
export function connectThroughProxy(proxyUrl: string, origin: string, timeoutMs: number): Promise<TLSSocket> {
  const proxy = new URL(proxyUrl);
  const target = new URL(origin);
  const port = target.port || '443';
  const headers: Record<string, string> = { host: `${target.hostname}:${port}` };
  if (proxy.username) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return new Promise<TLSSocket>((resolve, reject) => {
    const request = (proxy.protocol === 'https:' ? https : http).request({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: `${target.hostname}:${port}`,
      headers,
      timeout: timeoutMs,
    });
    request.once('timeout', () => request.destroy(new Error(`proxy CONNECT timeout after ${timeoutMs} ms`)));
    request.once('error', reject);
    request.once('connect', (response, socket: Socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy refused CONNECT to ${target.host}: ${response.statusCode}`));
        return;
      }
      // SNI carries host names only (RFC 6066 §3); an IP address is checked against the certificate.
      const servername = isIP(target.hostname) === 0 ? target.hostname : undefined;
      const secure = tls.connect({
        socket,
        host: target.hostname,
        ALPNProtocols: ['h2'],
        ...(servername ? { servername } : {}),
      });
      secure.once('secureConnect', () => resolve(secure));
      secure.once('error', reject);
    });
    request.end();
  });
}
