/**
 * One HTTP/2 session of the pool (http2-pool.ts) and what the pool asks of it: whether it takes
 * new streams, whether a stream that ended was processed, keep-alive PINGs and the final close.
 */
import http2 from 'node:http2';

/** Our own ceiling on streams per session, whatever the server allows (Apple advertises 1000). */
const MAX_STREAMS_PER_SESSION = 1000;
/** close() lets running streams finish for this long, then destroys the sessions. */
const CLOSE_GRACE_MS = 2000;

export interface PooledSession {
  readonly session: http2.ClientHttp2Session;
  ready: boolean;
  /** The last stream id the server will process, once it sent GOAWAY (RFC 9113 §6.8). */
  goawayLastStreamId: number | undefined;
  active: number;
  /** Connect timeout and PING interval. */
  readonly timers: NodeJS.Timeout[];
  idleTimer: NodeJS.Timeout | undefined;
  /** The session's last 'error', the cause of a failed connect. */
  lastError: unknown;
}

export function pooledSession(session: http2.ClientHttp2Session): PooledSession {
  return {
    session,
    ready: false,
    goawayLastStreamId: undefined,
    active: 0,
    timers: [],
    idleTimer: undefined,
    lastError: undefined,
  };
}

/**
 * Ready, with a free stream (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2), and neither closing
 * nor told GOAWAY: no new streams after that (§6.8).
 */
export function takesStreams(pooled: PooledSession): boolean {
  const { session } = pooled;
  if (!pooled.ready || pooled.goawayLastStreamId !== undefined) return false;
  if (session.closed || session.destroyed) return false;
  const limit = Math.min(
    session.remoteSettings.maxConcurrentStreams ?? MAX_STREAMS_PER_SESSION,
    MAX_STREAMS_PER_SESSION,
  );
  return pooled.active < limit;
}

/**
 * Streams the server did not process are safe to send again: REFUSED_STREAM says so (RFC 9113
 * §8.7), and so does a GOAWAY whose last stream id is below the stream's (§6.8).
 */
export function unprocessed(pooled: PooledSession, stream: http2.ClientHttp2Stream): boolean {
  if (stream.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) return true;
  const last = pooled.goawayLastStreamId;
  return last !== undefined && stream.id !== undefined && stream.id > last;
}

/** session.request threw because the session is gone, not because of the request. */
export function sessionGone(session: http2.ClientHttp2Session, error: unknown): boolean {
  if (session.closed || session.destroyed) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    code === 'ERR_HTTP2_INVALID_SESSION' ||
    code === 'ERR_HTTP2_GOAWAY_SESSION' ||
    code === 'ERR_HTTP2_OUT_OF_STREAMS'
  );
}

/** PING (RFC 9113 §6.7) every `intervalMs`; a session that does not answer within `timeoutMs` goes. */
export function keepAlive(pooled: PooledSession, intervalMs: number, timeoutMs: number): NodeJS.Timeout {
  const { session } = pooled;
  const timer = setInterval(() => {
    if (session.destroyed || session.closed) return;
    const deadline = setTimeout(() => session.destroy(), timeoutMs).unref();
    session.ping((error) => {
      clearTimeout(deadline);
      if (error) session.destroy();
    });
  }, intervalMs);
  timer.unref();
  return timer;
}

export function clearTimers(pooled: PooledSession): void {
  for (const timer of pooled.timers) clearTimeout(timer);
  clearTimeout(pooled.idleTimer);
}

/** Closes one session: running streams get a short grace, then the session goes. */
export function shutDown(pooled: PooledSession): Promise<void> {
  clearTimers(pooled);
  const { session } = pooled;
  return new Promise<void>((resolve) => {
    if (session.destroyed) return resolve();
    const grace = setTimeout(() => session.destroy(), CLOSE_GRACE_MS).unref();
    session.once('close', () => {
      clearTimeout(grace);
      resolve();
    });
    if (!session.closed) session.close();
  });
}
