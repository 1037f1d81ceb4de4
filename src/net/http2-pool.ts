/**
 * A small pool of long-lived HTTP/2 sessions to one origin, shared by APNs and FCM. Both services
 * ask for connections that stay open and carry many requests at once: Apple ("Sending notification
 * requests to APNs": "keep your connections with APNs open across multiple notifications; don't
 * repeatedly open and close connections") and Google (FCM HTTP v1 over HTTP/2, "Send messages":
 * multiplexed requests on one connection). Each server announces per connection how many streams it
 * accepts (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2; Apple 1000 and changing while the
 * connection lives, Google 100).
 *
 * - Requests wait in one queue and go to the least busy ready session that has a free stream.
 * - A new session is opened only when every ready session is full (and fewer than `maxSessions`
 *   exist), so a burst of 1,000 pushes still uses a handful of TLS connections. node's client would
 *   silently queue streams past the limit on one session; the pool reads the limit itself.
 * - A session that receives GOAWAY (RFC 9113 §6.8), closes or fails leaves the pool at once; queued
 *   requests stay queued and go to a new session. Streams it was carrying fail with a
 *   TransportError; the provider decides what that means (both report it as temporary).
 * - PING (RFC 9113 §6.7) keeps idle sessions alive through NATs and finds dead ones; an optional
 *   idle timeout closes unused sessions instead. Connect and response timeouts bound every wait,
 *   and the caller's AbortSignal cancels a queued or running request (RST_STREAM CANCEL).
 * - With a proxy, each session runs inside an HTTP CONNECT tunnel (proxy-tunnel.ts); a request
 *   waiting for the tunnel still leaves when its signal aborts, and a tunnel that opens after
 *   close() is destroyed.
 */
import http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { openTlsThroughProxy } from './proxy-tunnel.ts';

/** Why a request failed without an HTTP answer. */
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
  /** The service's name in log lines and messages ("APNs"); the origin's host by default. */
  service?: string;
  /** Client certificate and key (APNs certificate auth). */
  clientCert?: { cert: string; key: string } | undefined;
  /** Sygnal's top-level `proxy`: sessions run through an HTTP CONNECT tunnel. */
  proxy?: string | undefined;
  maxSessions: number;
  /** Bounds the tunnel, the TLS handshake and the server's first SETTINGS, each. */
  connectTimeoutMs: number;
  /** From sending the request to the end of the response. */
  responseTimeoutMs: number;
  /** PING interval; none when unset. */
  pingIntervalMs?: number;
  /** A session without streams for this long is closed; never when unset. */
  idleTimeoutMs?: number;
  logger?: Logger;
}

export interface Http2Request {
  path: string;
  headers: Record<string, string>;
  body: string;
  signal?: AbortSignal;
}

export interface Http2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** Our own ceiling on streams per session, whatever the server allows (Apple advertises 1000). */
const MAX_STREAMS_PER_SESSION = 1000;
/** Error answers are small JSON; a larger body is cut rather than held in memory. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** After a failed connect, no new attempt for this long while other sessions carry the load. */
const CONNECT_BACKOFF_MS = 1000;

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
  readonly #service: string;
  readonly #logger: Logger;
  readonly #sessions: PooledSession[] = [];
  readonly #queue: Job[] = [];
  #closed = false;
  /** Proxy tunnels being opened (sessions that do not exist yet). */
  #tunnelsOpening = 0;
  #connectBlockedUntil = 0;

  constructor(options: Http2PoolOptions) {
    this.#options = options;
    this.#service = options.service ?? new URL(options.origin).host;
    this.#logger = options.logger ?? pino({ enabled: false });
  }

  /** Sessions in the pool (for tests). */
  get sessionCount(): number {
    return this.#sessions.length;
  }

  request(request: Http2Request): Promise<Http2Answer> {
    if (this.#closed) return Promise.reject(new TransportError('closed', 'transport closed'));
    const { signal } = request;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<Http2Answer>((resolve, reject) => {
      const job: Job = {
        request,
        resolve,
        reject,
        onAbort: () => {
          const index = this.#queue.indexOf(job);
          if (index >= 0) {
            this.#queue.splice(index, 1);
            reject(abortError(signal));
          }
        },
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.#queue.push(job);
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0))
      this.#fail(job, new TransportError('closed', 'transport closed (shutting down)'));
    await Promise.all(
      this.#sessions.splice(0).map(
        (pooled) =>
          new Promise<void>((resolve) => {
            for (const timer of pooled.timers) clearTimeout(timer);
            if (pooled.session.closed || pooled.session.destroyed) return resolve();
            // Streams still running get a short grace, then the session goes.
            const grace = setTimeout(() => pooled.session.destroy(), 2000).unref();
            pooled.session.close(() => {
              clearTimeout(grace);
              resolve();
            });
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
      if (this.#options.proxy === undefined) this.#open(undefined);
      else void this.#connectThroughProxy(this.#options.proxy);
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

  /** Opens a session inside a CONNECT tunnel; the tunnel counts as a connection meanwhile. */
  async #connectThroughProxy(proxy: string): Promise<void> {
    const { origin, connectTimeoutMs, clientCert } = this.#options;
    this.#tunnelsOpening++;
    let socket: Duplex;
    try {
      // Awaited inside the try: a proxy URL whose credentials hold a malformed %-escape throws, and
      // the counter must come down either way, or the pool waits forever for a tunnel.
      socket = await openTlsThroughProxy(proxy, origin, connectTimeoutMs, { ...clientCert });
    } catch (error) {
      this.#tunnelsOpening--;
      if (this.#closed) return;
      this.#logger.warn({ err: error }, `cannot reach ${this.#service} through the proxy`);
      const message = error instanceof Error ? error.message : String(error);
      this.#connectFailed(new TransportError('connect', `proxy: ${message}`, { cause: error }));
      return;
    }
    this.#tunnelsOpening--;
    // close() ran while the tunnel opened: nobody would close a session added now.
    if (this.#closed) socket.destroy();
    else this.#open(socket);
  }

  /** A connection attempt failed: fail the waiting requests unless another session can take them. */
  #connectFailed(error: TransportError): void {
    if (this.#sessions.some((s) => s.ready)) {
      this.#connectBlockedUntil = Date.now() + CONNECT_BACKOFF_MS;
      setTimeout(() => this.#pump(), CONNECT_BACKOFF_MS).unref();
      return;
    }
    for (const job of this.#queue.splice(0)) this.#fail(job, error);
  }

  /** Opens a session, directly or over an open proxy tunnel (TLS already done inside it). */
  #open(tunnel: Duplex | undefined): void {
    const { origin, clientCert, connectTimeoutMs, pingIntervalMs, idleTimeoutMs } = this.#options;
    const session =
      tunnel === undefined
        ? http2.connect(origin, { ...clientCert })
        : http2.connect(origin, { createConnection: () => tunnel });
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
        if (pingIntervalMs !== undefined) pooled.timers.push(this.#keepAlive(pooled, pingIntervalMs));
      }
      this.#pump();
    });
    session.on('goaway', (errorCode, lastStreamId) => {
      if (pooled.goaway) return;
      pooled.goaway = true;
      this.#logger.info(
        { error_code: errorCode, last_stream_id: lastStreamId },
        `${this.#service} sent GOAWAY; reconnecting`,
      );
      this.#retire(pooled);
    });
    session.on('error', (error) => {
      this.#logger.warn({ err: error }, `${this.#service} connection failed`);
    });
    session.on('close', () => {
      // A connection that never became ready fails the requests waiting for it when no other
      // session can take them, instead of letting them wait for the budget to run out.
      this.#retire(pooled, false);
      if (!pooled.ready && !this.#closed) {
        this.#connectFailed(new TransportError('connect', `cannot connect to ${this.#service} at ${origin}`));
      }
      if (!this.#closed) this.#pump();
    });
    if (idleTimeoutMs !== undefined) {
      session.setTimeout(idleTimeoutMs, () => {
        if (pooled.active === 0) this.#retire(pooled);
      });
    }
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
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      if (error === null) {
        request.signal?.removeEventListener('abort', job.onAbort);
        job.resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') });
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
    request.signal?.addEventListener('abort', onAbort, { once: true });

    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      responseHeaders = headers;
    });
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
    });
    stream.on('end', () =>
      finish(status > 0 ? null : this.#streamFailure(pooled, new Error('stream ended without a status'))),
    );
    stream.on('error', (error) => finish(this.#streamFailure(pooled, error)));
    stream.on('close', () => {
      pooled.active--;
      finish(this.#streamFailure(pooled, new Error(`stream closed (RST_STREAM code ${stream.rstCode})`)));
      this.#pump();
    });
    stream.end(request.body);
  }

  #fail(job: Job, error: Error): void {
    job.request.signal?.removeEventListener('abort', job.onAbort);
    job.reject(error);
  }

  #streamFailure(pooled: PooledSession, error: Error): TransportError {
    if (error instanceof TransportError) return error;
    if (pooled.goaway) {
      const message = `${this.#service} closed the connection (GOAWAY) before answering`;
      return new TransportError('goaway', message, { cause: error });
    }
    return new TransportError('reset', `${this.#service} reset the stream: ${error.message}`, {
      cause: error,
    });
  }
}

function streamLimit(session: http2.ClientHttp2Session): number {
  return Math.min(
    session.remoteSettings.maxConcurrentStreams ?? MAX_STREAMS_PER_SESSION,
    MAX_STREAMS_PER_SESSION,
  );
}

function abortError(signal: AbortSignal | undefined): TransportError {
  return new TransportError('aborted', 'the request time budget ran out', { cause: signal?.reason });
}
