/** The shared HTTP/2 pool against a bare cleartext HTTP/2 server: what no push service adds. */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Http2Pool, TransportError } from './http2-pool.ts';

/** Answers `/ok` at once and never answers `/hang`; counts sessions and concurrent streams. */
async function startServer(maxConcurrentStreams: number) {
  const server = http2.createServer({ settings: { maxConcurrentStreams } });
  const stats = { sessions: 0, active: 0, peak: 0, cancelled: 0 };
  server.on('session', () => stats.sessions++);
  server.on('stream', (stream, headers) => {
    stats.active++;
    stats.peak = Math.max(stats.peak, stats.active);
    stream.on('close', () => {
      stats.active--;
      if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) stats.cancelled++;
    });
    stream.resume();
    stream.on('end', () => {
      if (headers[':path'] !== '/ok') return;
      setTimeout(() => {
        stream.respond({ ':status': 200 });
        stream.end('ok');
      }, 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, stats, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const options = { maxSessions: 2, connectTimeoutMs: 2000, responseTimeoutMs: 5000 };
const post = (path: string, signal?: AbortSignal) => ({
  path,
  headers: {},
  body: '{}',
  ...(signal ? { signal } : {}),
});

describe('Http2Pool', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer(3);
  });
  after(() => server.close());

  it('never runs more streams per session than the server allows, and opens sessions only up to maxSessions', async () => {
    const pool = new Http2Pool({ origin: server.origin, ...options });
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => pool.request(post('/ok'))));
      assert.deepEqual(new Set(answers.map((a) => `${a.status} ${a.body}`)), new Set(['200 ok']));
      assert.ok(server.stats.peak <= 6, `peak ${server.stats.peak} streams over 2 sessions of 3`);
      assert.equal(server.stats.sessions, 2);
    } finally {
      await pool.close();
    }
  });

  it('an aborted signal cancels the running stream (RST_STREAM CANCEL) and the queued request', async () => {
    const pool = new Http2Pool({ origin: server.origin, ...options, maxSessions: 1 });
    try {
      const controller = new AbortController();
      const running = Array.from({ length: 3 }, () => pool.request(post('/hang', controller.signal)));
      const queued = pool.request(post('/hang', controller.signal));
      while (server.stats.active < 3) await new Promise((resolve) => setTimeout(resolve, 10));
      const cancelledBefore = server.stats.cancelled;
      controller.abort();
      for (const pending of [...running, queued]) {
        await assert.rejects(pending, (error) => error instanceof TransportError && error.kind === 'aborted');
      }
      while (server.stats.cancelled < cancelledBefore + 3)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal((await pool.request(post('/ok'))).status, 200);
    } finally {
      await pool.close();
    }
  });

  it("fails with kind 'connect' when nothing listens, and 'closed' after close()", async () => {
    const down = await startServer(3);
    await down.close();
    const pool = new Http2Pool({ origin: down.origin, ...options });
    await assert.rejects(
      pool.request(post('/ok')),
      (error) => error instanceof TransportError && error.kind === 'connect',
    );
    await pool.close();
    await assert.rejects(
      pool.request(post('/ok')),
      (error) => error instanceof TransportError && error.kind === 'closed',
    );
  });
});

/** A bare server whose streams `onStream` answers; `sessions` are the server's sessions. */
async function serve(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  settings: http2.Settings = {},
) {
  const server = http2.createServer({ settings });
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (session) => sessions.push(session));
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    onStream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => {
    for (const session of sessions) session.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return { origin, sessions, close };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isKind = (kind: string) => (error: unknown) => error instanceof TransportError && error.kind === kind;
const answerOk = (stream: http2.ServerHttp2Stream) => {
  stream.respond({ ':status': 200 });
  stream.end('ok');
};

describe('Http2Pool: what the session does not survive', () => {
  it('a header node refuses to send fails that request once, without new connections', async () => {
    const server = await serve(answerOk);
    const pool = new Http2Pool({ origin: server.origin, ...options });
    try {
      const bad = {
        path: '/',
        headers: { connection: 'keep-alive' },
        body: '{}',
        signal: AbortSignal.timeout(2000),
      };
      await assert.rejects(pool.request(bad), isKind('invalid'));
      assert.equal((await pool.request(post('/'))).status, 200);
      assert.equal(server.sessions.length, 1);
    } finally {
      await pool.close();
      await server.close();
    }
  });

  it('a client key that does not match its certificate fails as connect, leaving no abort listener', async () => {
    const cert = readFileSync(new URL('../../test/fixtures/tls/server.pem', import.meta.url), 'utf8');
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const pool = new Http2Pool({ origin: 'https://127.0.0.1:1', clientCert: { cert, key }, ...options });
    const signal = new AbortController().signal;
    try {
      await assert.rejects(pool.request(post('/', signal)), (error) => {
        assert.ok(isKind('connect')(error), String(error));
        assert.match(String((error as Error).cause), /key values mismatch/);
        return true;
      });
      assert.equal(getEventListeners(signal, 'abort').length, 0);
    } finally {
      await pool.close();
    }
  });

  it('streams above the GOAWAY last-stream-id go to a new session; each request is processed once', async () => {
    const processed: string[] = [];
    let streams = 0;
    const server = await serve(
      (stream, headers) => {
        stream.resume();
        // RFC 9113 §6.8: the third stream tells the server to stop after stream 1.
        if (++streams === 3) stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
        setTimeout(() => {
          if (stream.closed) return;
          processed.push(String(headers['x-i']));
          answerOk(stream);
        }, 50);
      },
      { maxConcurrentStreams: 3 },
    );
    const pool = new Http2Pool({ origin: server.origin, ...options, maxSessions: 1 });
    try {
      const requests = Array.from({ length: 6 }, (_, i) =>
        pool.request({ path: '/', headers: { 'x-i': String(i) }, body: '{}' }),
      );
      const answers = await Promise.all(requests);
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      assert.deepEqual(processed.toSorted(), ['0', '1', '2', '3', '4', '5']);
    } finally {
      await pool.close();
      await server.close();
    }
  });

  it('a stream refused with REFUSED_STREAM is sent again', async () => {
    const seen = new Map<string, number>();
    const server = await serve((stream, headers) => {
      stream.resume();
      const id = String(headers['x-i']);
      seen.set(id, (seen.get(id) ?? 0) + 1);
      // RFC 9113 §8.7: the server did no processing, so the client may retry.
      if (seen.get(id) === 1) stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      else answerOk(stream);
    });
    const pool = new Http2Pool({ origin: server.origin, ...options });
    try {
      const answer = await pool.request({ path: '/', headers: { 'x-i': 'a' }, body: '{}' });
      assert.equal(answer.status, 200);
      assert.equal(seen.get('a'), 2);
    } finally {
      await pool.close();
      await server.close();
    }
  });

  it('after a failed connect, requests fail at once (with the cause) instead of each dialling', async () => {
    let connections = 0;
    const refuser = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(refuser.address() as AddressInfo).port}`;
    const pool = new Http2Pool({ origin, ...options });
    try {
      const errors: TransportError[] = [];
      for (let i = 0; i < 50; i++) await pool.request(post('/')).catch((error) => errors.push(error));
      assert.equal(errors.length, 50);
      assert.ok(errors.every(isKind('connect')));
      assert.ok(errors.every((error) => (error.retryAfterMs ?? 0) > 0));
      assert.ok(connections <= 3, `${connections} connections for 50 requests`);
    } finally {
      await pool.close();
      await new Promise((resolve) => refuser.close(resolve));
    }
  });

  it('a connect failure keeps the socket error as its cause', async () => {
    const down = await serve(answerOk);
    await down.close();
    const pool = new Http2Pool({ origin: down.origin, ...options });
    await assert.rejects(pool.request(post('/')), (error: Error) => {
      assert.equal((error.cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNREFUSED');
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
    await pool.close();
  });

  it('a session idle after a request longer than the idle timeout is still closed', async () => {
    const server = await serve((stream) => {
      stream.resume();
      setTimeout(() => answerOk(stream), 500);
    });
    const pool = new Http2Pool({ origin: server.origin, ...options, idleTimeoutMs: 200 });
    try {
      assert.equal((await pool.request(post('/'))).status, 200);
      for (let i = 0; i < 100 && !server.sessions[0]?.closed; i++) await sleep(20);
      assert.equal(server.sessions[0]?.closed, true, 'the idle session is still open');
    } finally {
      await pool.close();
      await server.close();
    }
  });

  it('close() ends streams on a draining (GOAWAY) session too, failing them as closed', async () => {
    const server = await serve((stream, headers) => {
      stream.resume();
      // Graceful GOAWAY that still covers this stream, which is never answered.
      if (headers[':path'] === '/goaway')
        stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR, 2 ** 31 - 1);
    });
    const pool = new Http2Pool({ origin: server.origin, ...options, responseTimeoutMs: 30_000 });
    try {
      const draining = pool.request(post('/goaway'));
      for (let i = 0; i < 100 && pool.sessionCount > 0; i++) await sleep(10);
      const running = pool.request(post('/hang'));
      await sleep(50);
      const failures = [
        assert.rejects(draining, isKind('closed')),
        assert.rejects(running, isKind('closed')),
      ];
      await pool.close();
      await Promise.all(failures);
    } finally {
      await server.close();
    }
  });

  it('reads no more than 64 KiB of a body: cuts the chunk at the cap and cancels the stream', async () => {
    let cancelled = false;
    const server = await serve((stream, headers) => {
      stream.resume();
      stream.on('close', () => {
        cancelled ||= stream.rstCode === http2.constants.NGHTTP2_CANCEL;
      });
      stream.respond({ ':status': 400 });
      if (headers[':path'] === '/boundary') {
        stream.write(Buffer.alloc(60_000, 'a'));
        setTimeout(() => stream.end(Buffer.alloc(10_000, 'b')), 20);
      } else {
        const chunk = Buffer.alloc(16_384, 'x');
        const write = () => {
          while (!stream.destroyed && stream.write(chunk));
          if (!stream.destroyed) stream.once('drain', write);
        };
        write();
      }
    });
    const pool = new Http2Pool({ origin: server.origin, ...options });
    try {
      const boundary = await pool.request(post('/boundary'));
      assert.equal(boundary.body, 'a'.repeat(60_000) + 'b'.repeat(64 * 1024 - 60_000));
      const endless = await pool.request(post('/endless'));
      assert.equal(endless.body.length, 64 * 1024);
      for (let i = 0; i < 100 && !cancelled; i++) await sleep(10);
      assert.ok(cancelled, 'the server was not told to stop (RST_STREAM CANCEL)');
    } finally {
      await pool.close();
      await server.close();
    }
  });
});
