/**
 * A small pool of long-lived HTTP/2 sessions to one APNs origin: the seam between the APNs policy
 * and the network. Apple asks providers to keep connections open and to multiplex pushes on them
 * rather than reconnecting per push ("Sending notification requests to APNs": "keep your
 * connections with APNs open across multiple notifications; don't repeatedly open and close
 * connections"), and announces per connection how many concurrent streams it accepts
 * (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2), which Apple changes while a connection lives.
 *
 * - Requests wait in one queue and go to the least busy ready session that has a free stream.
 * - A new session is opened only when every ready session is full (and fewer than `maxSessions`
 *   exist), so a burst of 1,000 pushes still uses a handful of TLS connections.
 * - A session that receives GOAWAY, closes or fails leaves the pool at once; queued requests stay
 *   queued and go to a new session. Streams it was carrying fail with a TransportError, which the
 *   provider reports as temporary (the dispatcher retries them, with the same apns-id).
 * - PING keeps idle sessions alive through NATs and finds dead ones; connect and response timeouts
 *   bound every wait, and the caller's AbortSignal cancels a queued or running request.
 */
import http2 from 'node:http2';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { openProxyTunnel } from '../../net/proxy-tunnel.ts';

/** Why a request failed without an HTTP answer; every kind is temporary for the caller. */
export type TransportFailure = 'connect' | 'goaway' | 'reset' | 'timeout' | 'closed' | 'aborted';

export class TransportError extends Error {
  readonly kind: TransportFailure;

  constructor(kind: TransportFailure, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TransportError';
    this.kind = kind;
  }
}

export interface Http2PoolOptions {
  /** `https://host[:port]` (or `http://` for cleartext HTTP/2, test servers only). */
  origin: string;
  /** Client certificate and key (certificate auth). */
  clientCert?: { cert: string; key: string } | undefined;
  /** Sygnal's top-level `proxy`: connections go through an HTTP CONNECT tunnel. */
  proxy?: string | undefined;
  maxSessions: number;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  pingIntervalMs: number;
  logger: Logger;
}

export interface Http2Request {
  path: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
}

export interface Http2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** Our own ceiling on streams per session, whatever the server allows (Apple advertises 1000). */
const MAX_STREAMS_PER_SESSION = 1000;

interface PooledSession {
  readonly session: http2.ClientHttp2Session;
  ready: boolean;
  /** Set when the server sent GOAWAY: streams it refuses then fail as 'goaway'. */
  goaway: boolean;
  active: number;
  readonly timers: NodeJS.Timeout[];
}

interface Job {
  readonly request: Http2Request;
  readonly resolve: (answer: Http2Answer) => void;
  readonly reject: (error: Error) => void;
  readonly onAbort: () => void;
}

export class Http2Pool {
  readonly #options: Http2PoolOptions;
  readonly #sessions: PooledSession[] = [];
  readonly #queue: Job[] = [];
  #closed = false;
  /** Proxy tunnels being opened (sessions that do not exist yet). */
  #tunnelsOpening = 0;
  /** After a failed connect, no new attempt before this time while other sessions carry the load. */
  #connectBlockedUntil = 0;

  constructor(options: Http2PoolOptions) {
    this.#options = options;
  }

  request(request: Http2Request): Promise<Http2Answer> {
    if (this.#closed)
      return Promise.reject(new TransportError('closed', 'the APNs connection pool is closed'));
    if (request.signal.aborted) return Promise.reject(abortError(request.signal));
    return new Promise<Http2Answer>((resolve, reject) => {
      const job: Job = {
        request,
        resolve,
        reject,
        onAbort: () => {
          const index = this.#queue.indexOf(job);
          if (index >= 0) {
            this.#queue.splice(index, 1);
            reject(abortError(request.signal));
          }
        },
      };
      request.signal.addEventListener('abort', job.onAbort, { once: true });
      this.#queue.push(job);
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#fail(job, new TransportError('closed', 'shutting down'));
    await Promise.all(
      [...this.#sessions].map(
        (pooled) =>
          new Promise<void>((resolve) => {
            if (pooled.session.closed || pooled.session.destroyed) return resolve();
            pooled.session.close(() => resolve());
            // Streams still running get a short grace, then the session goes.
            setTimeout(() => pooled.session.destroy(), 2000).unref();
          }),
      ),
    );
  }

  /** Hands queued requests to sessions with free streams; opens a session when all are full. */
  #pump(): void {
    while (this.#queue.length > 0) {
      const pooled = this.#leastBusy();
      if (pooled === undefined) break;
      this.#start(this.#queue.shift()!, pooled);
    }
    const connecting = this.#tunnelsOpening > 0 || this.#sessions.some((s) => !s.ready);
    const room = this.#sessions.length + this.#tunnelsOpening < this.#options.maxSessions;
    if (this.#queue.length > 0 && !connecting && room && Date.now() >= this.#connectBlockedUntil) {
      this.#connect();
    }
  }

  #leastBusy(): PooledSession | undefined {
    let best: PooledSession | undefined;
    for (const pooled of this.#sessions) {
      if (!pooled.ready || pooled.active >= streamLimit(pooled.session)) continue;
      if (best === undefined || pooled.active < best.active) best = pooled;
    }
    return best;
  }

  #connect(): void {
    const { proxy } = this.#options;
    if (proxy === undefined) this.#open(undefined);
    else void this.#connectThroughProxy(proxy);
  }

  /** Opens a session inside an HTTP CONNECT tunnel; the tunnel counts as a connection meanwhile. */
  async #connectThroughProxy(proxy: string): Promise<void> {
    const { origin, connectTimeoutMs, logger } = this.#options;
    this.#tunnelsOpening++;
    let socket: Socket;
    try {
      // Awaited inside the try: openProxyTunnel can also throw before it returns a promise (a
      // proxy URL whose credentials hold a malformed %-escape), and the counter must come down
      // either way, or the pool believes a connection is on its way and never opens another.
      socket = await openProxyTunnel(proxy, origin, connectTimeoutMs);
    } catch (error) {
      this.#tunnelsOpening--;
      logger.warn({ err: error }, 'cannot reach APNs through the proxy');
      const message = error instanceof Error ? error.message : String(error);
      this.#connectFailed(new TransportError('connect', `proxy: ${message}`, { cause: error }));
      return;
    }
    this.#tunnelsOpening--;
    if (this.#closed) socket.destroy();
    else this.#open(socket);
  }

  /** A connection attempt failed: fail the waiting requests unless another session can take them. */
  #connectFailed(error: TransportError): void {
    if (this.#sessions.some((s) => s.ready)) {
      this.#connectBlockedUntil = Date.now() + 1000;
      setTimeout(() => this.#pump(), 1000).unref();
      return;
    }
    for (const job of this.#queue.splice(0)) this.#fail(job, error);
  }

  /** Opens a session, directly or over an open proxy tunnel. */
  #open(tunnel: Socket | undefined): void {
    const { origin, clientCert, connectTimeoutMs, pingIntervalMs, logger } = this.#options;
    const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    const session =
      tunnel === undefined
        ? http2.connect(origin, { ...clientCert })
        : http2.connect(origin, {
            createConnection: () =>
              tls.connect({
                socket: tunnel,
                host,
                // SNI carries host names only (RFC 6066 §3).
                ...(isIP(host) === 0 ? { servername: host } : {}),
                ALPNProtocols: ['h2'],
                ...clientCert,
              }),
          });
    const pooled: PooledSession = { session, ready: false, goaway: false, active: 0, timers: [] };
    this.#sessions.push(pooled);

    const connectTimer = setTimeout(() => {
      if (!pooled.ready)
        session.destroy(new TransportError('connect', `no connection within ${connectTimeoutMs} ms`));
    }, connectTimeoutMs);
    pooled.timers.push(connectTimer);
    // Ready once the server's SETTINGS arrived: only then is its stream limit known.
    session.on('remoteSettings', () => {
      if (!pooled.ready) {
        pooled.ready = true;
        clearTimeout(connectTimer);
        pooled.timers.push(this.#keepAlive(pooled, pingIntervalMs));
      }
      this.#pump();
    });
    session.on('goaway', (errorCode, lastStreamId) => {
      if (pooled.goaway) return;
      pooled.goaway = true;
      logger.info({ error_code: errorCode, last_stream_id: lastStreamId }, 'APNs sent GOAWAY; reconnecting');
      this.#retire(pooled);
    });
    session.on('error', (error) => {
      logger.warn({ err: error }, 'APNs connection failed');
    });
    session.on('close', () => {
      // A connection that never became ready fails the requests waiting for it when no other
      // session can take them, instead of letting them wait for the budget to run out.
      this.#retire(pooled, false);
      if (!pooled.ready) {
        this.#connectFailed(new TransportError('connect', `cannot connect to APNs at ${origin}`));
      }
      if (!this.#closed) this.#pump();
    });
    session.unref();
  }

  #keepAlive(pooled: PooledSession, intervalMs: number): NodeJS.Timeout {
    const timer = setInterval(() => {
      if (pooled.session.destroyed || pooled.session.closed) return;
      const deadline = setTimeout(() => pooled.session.destroy(), this.#options.connectTimeoutMs).unref();
      pooled.session.ping((error) => {
        clearTimeout(deadline);
        if (error) pooled.session.destroy();
      });
    }, intervalMs);
    timer.unref();
    return timer;
  }

  /** Takes a session out of the pool (its running streams may still finish) and refills it. */
  #retire(pooled: PooledSession, refill = true): void {
    const index = this.#sessions.indexOf(pooled);
    if (index < 0) return;
    this.#sessions.splice(index, 1);
    for (const timer of pooled.timers) clearTimeout(timer);
    if (!pooled.session.closed && !pooled.session.destroyed) pooled.session.close();
    if (refill && !this.#closed) this.#pump();
  }

  #start(job: Job, pooled: PooledSession): void {
    const { request } = job;
    const { session } = pooled;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'POST', ':path': request.path, ...request.headers });
    } catch {
      // The session went away between the pool's check and now: queue the job again.
      this.#queue.unshift(job);
      this.#retire(pooled);
      return;
    }
    pooled.active++;
    let settled = false;
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const chunks: string[] = [];
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
      if (error === null) {
        request.signal.removeEventListener('abort', job.onAbort);
        job.resolve({ status, headers: responseHeaders, body: chunks.join('') });
      } else {
        this.#fail(job, error);
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      }
    };
    const timer = setTimeout(
      () => finish(new TransportError('timeout', `no answer within ${this.#options.responseTimeoutMs} ms`)),
      this.#options.responseTimeoutMs,
    );
    const onAbort = () => finish(abortError(request.signal));
    request.signal.addEventListener('abort', onAbort, { once: true });

    stream.setEncoding('utf8');
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      responseHeaders = headers;
    });
    stream.on('data', (chunk: string) => chunks.push(chunk));
    stream.on('end', () =>
      finish(status > 0 ? null : streamFailure(pooled, new Error('stream ended without a status'))),
    );
    stream.on('error', (error) => finish(streamFailure(pooled, error)));
    stream.on('close', () => {
      pooled.active--;
      finish(streamFailure(pooled, new Error(`stream closed (RST_STREAM code ${stream.rstCode})`)));
      this.#pump();
    });
    stream.end(request.body);
  }

  #fail(job: Job, error: Error): void {
    job.request.signal.removeEventListener('abort', job.onAbort);
    job.reject(error);
  }
}

function streamLimit(session: http2.ClientHttp2Session): number {
  return Math.min(
    session.remoteSettings.maxConcurrentStreams ?? MAX_STREAMS_PER_SESSION,
    MAX_STREAMS_PER_SESSION,
  );
}

function streamFailure(pooled: PooledSession, error: Error): TransportError {
  if (error instanceof TransportError) return error;
  if (pooled.goaway) {
    return new TransportError('goaway', 'APNs closed the connection (GOAWAY) before answering', {
      cause: error,
    });
  }
  return new TransportError('reset', `APNs reset the stream: ${error.message}`, { cause: error });
}

function abortError(signal: AbortSignal): TransportError {
  return new TransportError('aborted', 'the request time budget ran out', { cause: signal.reason });
}
