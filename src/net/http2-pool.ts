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
 * - After a failed connect no new one is tried for a while (exponential backoff); meanwhile requests
 *   that no ready session can take fail at once as 'connect', and the dispatcher retries them
 *   within its budget. Without this, an outage turns every request into a new connection.
 * - A session that receives GOAWAY (RFC 9113 §6.8), closes or fails leaves the pool at once; queued
 *   requests stay queued and go to a new session. Streams the server never processed (above the
 *   GOAWAY's last stream id, or refused with REFUSED_STREAM, RFC 9113 §8.7) go back to the queue;
 *   other streams it was carrying fail with a TransportError, and the provider decides what that
 *   means (both report it as temporary).
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
import {
  clearTimers,
  keepAlive,
  type PooledSession,
  pooledSession,
  sessionGone,
  shutDown,
  takesStreams,
  unprocessed,
} from './http2-session.ts';
import { openTlsThroughProxy } from './proxy-tunnel.ts';

/** Why a request failed without an HTTP answer ('invalid': node refused to send it at all). */
export type TransportFailure = 'connect' | 'goaway' | 'reset' | 'timeout' | 'closed' | 'aborted' | 'invalid';

export class TransportError extends Error {
  readonly kind: TransportFailure;
  /** For 'connect': when the pool will try to connect again (its backoff), so a retry waits that long. */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: TransportFailure,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TransportError';
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
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

/** Error answers are small JSON; a larger body is cut rather than held in memory. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Backoff after failed connects: the first wait, doubled per failure up to the last. */
const CONNECT_BACKOFF_FIRST_MS = 250;
const CONNECT_BACKOFF_MAX_MS = 30_000;
/** How often one request may go back to the queue because its session went away unprocessed. */
const MAX_REQUEUES = 3;

interface Job {
  readonly request: Http2Request;
  readonly resolve: (answer: Http2Answer) => void;
  readonly reject: (error: Error) => void;
  readonly onAbort: () => void;
  requeues: number;
}

export class Http2Pool {
  readonly #options: Http2PoolOptions;
  readonly #service: string;
  readonly #logger: Logger;
  /** Sessions that take new streams (or will, once ready). */
  readonly #sessions: PooledSession[] = [];
  /** Sessions out of the pool whose streams may still run, until their 'close'. */
  readonly #retired = new Set<PooledSession>();
  readonly #queue: Job[] = [];
  #closed = false;
  /** Proxy tunnels being opened (sessions that do not exist yet). */
  #tunnelsOpening = 0;
  #connectFailures = 0;
  #connectBlockedUntil = 0;
  #lastConnectError: TransportError | undefined;
  #pumpTimer: NodeJS.Timeout | undefined;

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
        requeues: 0,
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
    clearTimeout(this.#pumpTimer);
    for (const job of this.#queue.splice(0))
      this.#fail(job, new TransportError('closed', 'transport closed (shutting down)'));
    const all = [...this.#sessions.splice(0), ...this.#retired];
    await Promise.all(all.map((pooled) => shutDown(pooled)));
  }

  /** Hands queued requests to sessions with free streams; opens a session when all are full. */
  #pump(): void {
    if (this.#closed) return;
    while (this.#queue.length > 0) {
      const pooled = this.#leastBusy();
      if (pooled === undefined) break;
      this.#start(this.#queue.shift()!, pooled);
    }
    if (this.#queue.length === 0) return;
    const connecting = this.#tunnelsOpening > 0 || this.#sessions.some((s) => !s.ready);
    const room = this.#sessions.length + this.#tunnelsOpening < this.#options.maxSessions;
    if (connecting || !room) return;
    if (Date.now() < this.#connectBlockedUntil) this.#holdOrFailQueue();
    else if (this.#options.proxy === undefined) this.#open(undefined);
    else void this.#connectThroughProxy(this.#options.proxy);
  }

  #leastBusy(): PooledSession | undefined {
    let best: PooledSession | undefined;
    for (const pooled of this.#sessions) {
      if (!takesStreams(pooled)) continue;
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
      this.#connectFailed(`proxy: ${messageOf(error)}`, error);
      return;
    }
    this.#tunnelsOpening--;
    // close() ran while the tunnel opened: nobody would close a session added now.
    if (this.#closed) socket.destroy();
    else this.#open(socket);
  }

  /**
   * A connection attempt failed: no new one until the backoff ends (250 ms doubling to 30 s), so an
   * outage does not turn every request into a connection attempt.
   */
  #connectFailed(message: string, cause: unknown): void {
    const delay = Math.min(CONNECT_BACKOFF_MAX_MS, CONNECT_BACKOFF_FIRST_MS * 2 ** this.#connectFailures);
    this.#connectFailures++;
    this.#connectBlockedUntil = Date.now() + delay;
    const error = new TransportError('connect', message, { cause, retryAfterMs: delay });
    this.#lastConnectError = error;
    if (this.#sessions.some((s) => s.ready)) this.#holdOrFailQueue();
    else for (const job of this.#queue.splice(0)) this.#fail(job, error);
  }

  /**
   * During the backoff, queued requests wait for a ready session's free stream and the pool tries
   * again when the backoff ends; without a ready session nothing can take them, so they fail now.
   */
  #holdOrFailQueue(): void {
    const wait = this.#connectBlockedUntil - Date.now();
    if (this.#sessions.some((s) => s.ready)) {
      if (this.#pumpTimer === undefined) {
        this.#pumpTimer = setTimeout(() => {
          this.#pumpTimer = undefined;
          this.#pump();
        }, wait).unref();
      }
      return;
    }
    const last = this.#lastConnectError;
    const error = new TransportError(
      'connect',
      `not connecting to ${this.#service} for ${wait} ms after a failed attempt: ${last?.message}`,
      { cause: last, retryAfterMs: wait },
    );
    for (const job of this.#queue.splice(0)) this.#fail(job, error);
  }

  /** Opens a session, directly or over an open proxy tunnel (TLS already done inside it). */
  #open(tunnel: Duplex | undefined): void {
    const { origin, clientCert, connectTimeoutMs, pingIntervalMs } = this.#options;
    let session: http2.ClientHttp2Session;
    try {
      session =
        tunnel === undefined
          ? http2.connect(origin, { ...clientCert })
          : http2.connect(origin, { createConnection: () => tunnel });
    } catch (error) {
      // connect throws synchronously, e.g. when tls.createSecureContext finds that the client key
      // does not match its certificate ("key values mismatch").
      tunnel?.destroy();
      this.#logger.warn({ err: error }, `cannot connect to ${this.#service}`);
      const message = `cannot connect to ${this.#service} at ${origin}: ${messageOf(error)}`;
      this.#connectFailed(message, error);
      return;
    }
    const pooled = pooledSession(session);
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
        this.#connectFailures = 0;
        this.#connectBlockedUntil = 0;
        clearTimeout(connectTimer);
        if (pingIntervalMs !== undefined)
          pooled.timers.push(keepAlive(pooled, pingIntervalMs, connectTimeoutMs));
        this.#armIdle(pooled);
      }
      this.#pump();
    });
    session.on('goaway', (errorCode, lastStreamId) => {
      if (pooled.goawayLastStreamId !== undefined) return;
      pooled.goawayLastStreamId = lastStreamId;
      this.#logger.info(
        { error_code: errorCode, last_stream_id: lastStreamId },
        `${this.#service} sent GOAWAY; reconnecting`,
      );
      this.#retire(pooled);
    });
    session.on('error', (error) => {
      pooled.lastError = error;
      this.#logger.warn({ err: error }, `${this.#service} connection failed`);
    });
    session.on('close', () => {
      this.#retired.delete(pooled);
      this.#retire(pooled, false);
      clearTimers(pooled);
      // A connection that never became ready fails the requests waiting for it when no other
      // session can take them, instead of letting them wait for the budget to run out.
      if (!pooled.ready && !this.#closed) {
        const reason = pooled.lastError === undefined ? '' : `: ${messageOf(pooled.lastError)}`;
        const message = `cannot connect to ${this.#service} at ${origin}${reason}`;
        this.#connectFailed(message, pooled.lastError);
      }
      this.#pump();
    });
    session.unref();
  }

  /**
   * Idle retirement runs on our own timer, armed whenever the session has no streams: node's
   * session.setTimeout fires once, and when that happens during a long request it never comes back.
   */
  #armIdle(pooled: PooledSession): void {
    const { idleTimeoutMs } = this.#options;
    if (idleTimeoutMs === undefined || pooled.active > 0 || this.#closed) return;
    clearTimeout(pooled.idleTimer);
    pooled.idleTimer = setTimeout(() => {
      if (pooled.active === 0) this.#retire(pooled);
    }, idleTimeoutMs).unref();
  }

  /** Takes a session out of the pool (its running streams may still finish) and refills it. */
  #retire(pooled: PooledSession, refill = true): void {
    const index = this.#sessions.indexOf(pooled);
    if (index < 0) return;
    this.#sessions.splice(index, 1);
    clearTimers(pooled);
    if (!pooled.session.destroyed) {
      // Kept until its 'close', so close() can still end the streams it carries.
      this.#retired.add(pooled);
      if (!pooled.session.closed) pooled.session.close();
    }
    if (refill) this.#pump();
  }

  #start(job: Job, pooled: PooledSession): void {
    const { request } = job;
    const { session } = pooled;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'POST', ':path': request.path, ...request.headers });
    } catch (error) {
      if (sessionGone(session, error) && job.requeues < MAX_REQUEUES) {
        // The session went away between the pool's check and now; the request never left.
        job.requeues++;
        this.#queue.unshift(job);
        this.#retire(pooled, false);
      } else if (sessionGone(session, error)) {
        this.#fail(job, this.#streamFailure(pooled, error as Error));
      } else {
        // node refused the request itself (e.g. a connection-specific header, RFC 9113 §8.2.2):
        // any other session would refuse it too.
        const message = `cannot send the request to ${this.#service}: ${messageOf(error)}`;
        this.#fail(job, new TransportError('invalid', message, { cause: error }));
      }
      return;
    }
    pooled.active++;
    clearTimeout(pooled.idleTimer);
    let settled = false;
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const answer = () => {
      if (!settle()) return;
      request.signal?.removeEventListener('abort', job.onAbort);
      job.resolve({ status, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') });
    };
    const fail = (error: Error) => {
      if (!settle()) return;
      this.#fail(job, error);
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    /** The stream ended without a complete answer: retried when the server never processed it. */
    const gone = (error: Error) => {
      if (settled) return;
      const retry =
        status === 0 &&
        !this.#closed &&
        request.signal?.aborted !== true &&
        job.requeues < MAX_REQUEUES &&
        unprocessed(pooled, stream);
      if (!retry) return fail(this.#streamFailure(pooled, error));
      settle();
      job.requeues++;
      this.#queue.unshift(job);
    };
    const timer = setTimeout(
      () => fail(new TransportError('timeout', `no answer within ${this.#options.responseTimeoutMs} ms`)),
      this.#options.responseTimeoutMs,
    );
    const onAbort = () => fail(abortError(request.signal));
    request.signal?.addEventListener('abort', onAbort, { once: true });

    stream.on('response', (headers) => {
      status = Number(headers[':status']);
      responseHeaders = headers;
    });
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      const remaining = MAX_RESPONSE_BYTES - size;
      chunks.push(chunk.subarray(0, remaining));
      size += Math.min(chunk.length, remaining);
      if (chunk.length <= remaining) return;
      // Past the cap: answer with what we have and stop the download (the rest is not read).
      answer();
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    stream.on('end', () => (status > 0 ? answer() : gone(new Error('stream ended without a status'))));
    stream.on('error', (error) => gone(error));
    stream.on('close', () => {
      pooled.active--;
      this.#armIdle(pooled);
      gone(new Error(`stream closed (RST_STREAM code ${stream.rstCode})`));
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
    if (this.#closed) {
      const message = `transport closed (shutting down) before ${this.#service} answered`;
      return new TransportError('closed', message, { cause: error });
    }
    if (pooled.goawayLastStreamId !== undefined) {
      const message = `${this.#service} closed the connection (GOAWAY) before answering`;
      return new TransportError('goaway', message, { cause: error });
    }
    return new TransportError('reset', `${this.#service} reset the stream: ${error.message}`, {
      cause: error,
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function abortError(signal: AbortSignal | undefined): TransportError {
  return new TransportError('aborted', 'the request time budget ran out', { cause: signal?.reason });
}
