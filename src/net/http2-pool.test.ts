/** The shared HTTP/2 pool against a bare cleartext HTTP/2 server: what no push service adds. */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
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
