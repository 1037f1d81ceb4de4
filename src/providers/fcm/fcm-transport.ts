/**
 * HTTP/2 to the FCM endpoint: a few long-lived sessions, each carrying up to the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS requests at once (Google announces 100). A new session is opened
 * only when every open one is full, up to `maxSessions`; past that, streams queue on the least busy
 * session (nghttp2 holds them until a slot frees). Sygnal opens up to 20 HTTP/1.1 connections, one
 * request each, instead. Sessions that close, fail or receive GOAWAY leave the pool, and the next
 * request opens a fresh one (the reconnect).
 */
import http2, { type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { openTlsThroughProxy } from '../../net/proxy-tunnel.ts';

export interface Http2TransportOptions {
  /** Origin, e.g. https://fcm.googleapis.com. */
  readonly origin: string;
  readonly maxSessions: number;
  readonly connectTimeoutMs: number;
  /** From sending the request to the end of the response. */
  readonly responseTimeoutMs: number;
  /** A session with no stream for this long is closed. */
  readonly idleTimeoutMs?: number;
  /** Sygnal's `proxy`: sessions run through an HTTP CONNECT tunnel. */
  readonly proxy?: string | undefined;
}

export interface Http2Response {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Streams assumed per session until the server's SETTINGS arrive. */
const DEFAULT_STREAMS = 100;
const MAX_RESPONSE_BYTES = 64 * 1024;

interface PooledSession {
  session: ClientHttp2Session;
  active: number;
}

/** Makes the session: a direct connection, or one over an already open proxy tunnel. */
type Opener = (origin: string) => ClientHttp2Session;

export class Http2Transport {
  readonly #options: Http2TransportOptions;
  readonly #sessions: PooledSession[] = [];
  #closed = false;

  constructor(options: Http2TransportOptions) {
    this.#options = options;
  }

  /** Sessions currently open (for tests and metrics). */
  get sessionCount(): number {
    return this.#sessions.length;
  }

  async request(init: {
    path: string;
    headers: Record<string, string>;
    body: string;
    signal?: AbortSignal;
  }): Promise<Http2Response> {
    if (this.#closed) throw new Error('transport closed');
    init.signal?.throwIfAborted();
    const pooled = this.#options.proxy
      ? await untilAborted(this.#pickThroughProxy(), init.signal)
      : this.#pick();
    pooled.active++;
    try {
      return await this.#send(pooled.session, init);
    } finally {
      pooled.active--;
    }
  }

  #pick(): PooledSession {
    return this.#pickExisting() ?? this.#open();
  }

  /**
   * The least busy session with a free stream; else, at the cap, the least busy one (streams queue).
   * A session closing (idle close, error) stays listed until its 'close' event: never pick it, and
   * do not count it against the cap.
   */
  #pickExisting(): PooledSession | undefined {
    const live = this.#sessions.filter(({ session }) => !session.closed && !session.destroyed);
    let best: PooledSession | undefined;
    for (const pooled of live) {
      const limit = pooled.session.remoteSettings?.maxConcurrentStreams ?? DEFAULT_STREAMS;
      if (pooled.active < limit && (best === undefined || pooled.active < best.active)) best = pooled;
    }
    if (best !== undefined) return best;
    if (live.length < this.#options.maxSessions) return undefined;
    return live.reduce((a, b) => (b.active < a.active ? b : a));
  }

  /** A proxy tunnel being opened: callers arriving meanwhile share it rather than open more. */
  #opening: Promise<PooledSession> | undefined;

  async #pickThroughProxy(): Promise<PooledSession> {
    const existing = this.#pickExisting();
    if (existing !== undefined) return existing;
    if (this.#opening === undefined) {
      const opening = openTlsThroughProxy(
        this.#options.proxy!,
        this.#options.origin,
        this.#options.connectTimeoutMs,
      )
        .then((socket) => {
          // close() ran while the tunnel opened: nobody will close a session added now.
          if (this.#closed) {
            socket.destroy();
            throw new Error('transport closed');
          }
          return this.#open((origin) => http2.connect(origin, { createConnection: () => socket }));
        })
        .finally(() => {
          this.#opening = undefined;
        });
      // Every caller may have stopped waiting (request budget): the failure must not go unhandled.
      opening.catch(() => {});
      this.#opening = opening;
    }
    return this.#opening;
  }

  #open(connect: Opener = (origin) => http2.connect(origin)): PooledSession {
    const session = connect(this.#options.origin);
    const pooled: PooledSession = { session, active: 0 };
    this.#sessions.push(pooled);
    const forget = () => {
      const index = this.#sessions.indexOf(pooled);
      if (index >= 0) this.#sessions.splice(index, 1);
    };
    const connectTimer = setTimeout(() => {
      session.destroy(new Error(`connect timeout after ${this.#options.connectTimeoutMs} ms`));
    }, this.#options.connectTimeoutMs);
    session.once('connect', () => clearTimeout(connectTimer));
    session.once('close', () => {
      clearTimeout(connectTimer);
      forget();
    });
    // A GOAWAY (server restart, max connection age) means no new streams here: stop picking it.
    session.once('goaway', forget);
    // The error also reaches the streams using the session, which report it to their callers.
    session.on('error', forget);
    session.setTimeout(this.#options.idleTimeoutMs ?? 60_000, () => {
      if (pooled.active === 0) session.close();
    });
    return pooled;
  }

  #send(
    session: ClientHttp2Session,
    init: { path: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
  ): Promise<Http2Response> {
    return new Promise<Http2Response>((resolve, reject) => {
      const stream = session.request(
        { ':method': 'POST', ':path': init.path, ...init.headers },
        init.signal ? { signal: init.signal } : {},
      );
      let settled = false;
      const settle = (error: Error | undefined, response?: Http2Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(response!);
      };
      const timer = setTimeout(() => {
        settle(new Error(`no complete answer within ${this.#options.responseTimeoutMs} ms`));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, this.#options.responseTimeoutMs);
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('response', (responseHeaders) => {
        headers = responseHeaders;
        status = Number(responseHeaders[':status']);
      });
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_RESPONSE_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => {
        settle(undefined, { status, headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      stream.on('error', (error) => settle(error));
      stream.on('close', () => settle(new Error(`stream closed without an answer (code ${stream.rstCode})`)));
      stream.end(init.body);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const sessions = this.#sessions.splice(0);
    await Promise.all(
      sessions.map(
        ({ session }) =>
          new Promise<void>((resolve) => {
            if (session.destroyed) return resolve();
            const timer = setTimeout(() => session.destroy(), 2000);
            session.close(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
  }
}

/** `work`, or a rejection as soon as `signal` aborts (a shared tunnel opening carries on for others). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('request budget ran out while connecting through the proxy'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
