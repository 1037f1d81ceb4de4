/** The APNs HTTP/2 transport seen from the fake APNs: connection reuse, stream limits, failures. */
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect, createServer } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { APP_ID, type ApnsRig, hexToken, pushkeyFor, startApnsRig } from '../fakes/fake-apns-setup.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';

/** 10 concurrent notify requests × 100 devices; every push must be delivered. */
async function thousandPushes(rig: ApnsRig, label: string): Promise<void> {
  const pushkeys = Array.from({ length: 10 }, (_, r) =>
    Array.from({ length: 100 }, (_, d) => pushkeyFor(`${label}-${r}-${d}`)),
  );
  const requests = pushkeys.map((batch, r) =>
    rig.gw.notify(
      exampleNotification(
        batch.map((p) => device(APP_ID, p)),
        { event_id: `$${label}${r}` },
      ),
    ),
  );
  for (const res of await Promise.all(requests)) {
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
  }
  const tokens = new Set(pushkeys.flat().map(hexToken));
  const seen = rig.fake.requests.filter((r) => tokens.has(r.token));
  assert.equal(seen.length, 1000);
  assert.ok(seen.every((r) => typeof r.answer === 'object' && r.answer.status === 200));
}

// max_connections is well above what the load needs in both suites, so the connection counts
// below are the pool's own choice (Apple: keep connections open and multiplex on them).
describe('apns transport: 1,000 pushes over a handful of connections', () => {
  it("one connection when the server allows 1,000 streams (Apple's value), even with max_connections 16", async () => {
    const rig = await startApnsRig({
      app: { max_connections: 16, inflight_request_limit: 5000 },
      fake: { maxConcurrentStreams: 1000 },
      budgetMs: 20000,
    });
    try {
      await thousandPushes(rig, 'wide');
      assert.equal(rig.fake.connections(), 1);
      // And a second burst goes over the same connection.
      await thousandPushes(rig, 'again');
      assert.equal(rig.fake.connections(), 1);
    } finally {
      await rig.close();
    }
  });

  describe('with 100 streams per connection', () => {
    let rig: ApnsRig;
    before(async () => {
      rig = await startApnsRig({
        app: { max_connections: 16, inflight_request_limit: 5000 },
        fake: { maxConcurrentStreams: 100 },
        budgetMs: 20000,
      });
    });
    after(() => rig.close());

    it('at most 10 connections (1,000 / 100: a new one only when the open ones are full)', async () => {
      await thousandPushes(rig, 'bulk');
      const connections = rig.fake.connections();
      assert.ok(connections >= 1 && connections <= 10, `${connections} connections`);
      assert.ok(rig.fake.peakStreams() <= 100, `peak ${rig.fake.peakStreams()} streams`);
      rig.gw.app.logger.info(
        { connections, peak_streams: rig.fake.peakStreams() },
        'measurement: 1,000 pushes, 100 streams per connection',
      );
    });

    it('keeps using the same connections for later requests', async () => {
      // A connection the burst started may still be opening: count once the number holds still.
      let before = rig.fake.connections();
      for (let steady = 0; steady < 4; ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const now = rig.fake.connections();
        steady = now === before ? steady + 1 : 0;
        before = now;
      }
      for (let i = 0; i < 5; i++) {
        const res = await rig.gw.notify(
          exampleNotification([device(APP_ID, pushkeyFor(`later-${i}`))], { event_id: `$l${i}` }),
        );
        assert.equal(res.status, 200);
      }
      assert.equal(rig.fake.connections(), before);
    });
  });
});

describe("apns transport: the server's SETTINGS_MAX_CONCURRENT_STREAMS", () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig({ app: { max_connections: 2 }, fake: { maxConcurrentStreams: 3 } });
  });
  after(() => rig.close());

  it('opens a second connection when the first is full, never more streams than allowed; the rest wait', async () => {
    const pushkeys = Array.from({ length: 40 }, (_, i) => pushkeyFor(`limited-${i}`));
    const res = await rig.gw.notify(
      exampleNotification(
        pushkeys.map((p) => device(APP_ID, p)),
        { event_id: '$lim' },
      ),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    assert.ok(rig.fake.peakStreams() <= 3, `peak ${rig.fake.peakStreams()} streams`);
    // node's HTTP/2 client would silently queue streams past the limit on one connection; the pool
    // must see the limit itself to spread the load.
    assert.equal(rig.fake.connections(), 2);
    for (const p of pushkeys) assert.equal(rig.fake.requestsFor(hexToken(p)).length, 1);
  });
});

describe('apns transport: reconnecting', () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig({ app: { max_connections: 1 } });
  });
  after(() => rig.close());

  it('opens a new connection after GOAWAY and keeps delivering', async () => {
    const first = pushkeyFor('reconnect-a');
    await rig.gw.notify(exampleNotification([device(APP_ID, first)], { event_id: '$ra' }));
    assert.equal(rig.fake.connections(), 1);
    const goaway = pushkeyFor('reconnect-b');
    rig.fake.script(hexToken(goaway), 'goaway');
    const res = await rig.gw.notify(exampleNotification([device(APP_ID, goaway)], { event_id: '$rb' }));
    assert.equal(res.status, 200);
    const seen = rig.fake.requestsFor(hexToken(goaway));
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.connection, 1);
    assert.equal(seen[1]!.connection, 2);
    const after = await rig.gw.notify(
      exampleNotification([device(APP_ID, pushkeyFor('reconnect-c'))], { event_id: '$rc' }),
    );
    assert.equal(after.status, 200);
    assert.equal(rig.fake.connections(), 2);
  });
});

describe('apns transport: keep-alive', () => {
  it('PINGs an idle connection every ping_interval_ms and keeps using it', async () => {
    const rig = await startApnsRig({ app: { ping_interval_ms: 1000 } });
    try {
      await rig.gw.notify(exampleNotification([device(APP_ID, pushkeyFor('ping-a'))], { event_id: '$pa' }));
      while (rig.fake.pings() === 0) await new Promise((r) => setTimeout(r, 100));
      const res = await rig.gw.notify(
        exampleNotification([device(APP_ID, pushkeyFor('ping-b'))], { event_id: '$pb' }),
      );
      assert.equal(res.status, 200);
      assert.equal(rig.fake.connections(), 1);
    } finally {
      await rig.close();
    }
  });
});

describe('apns transport: budget and unreachable APNs', () => {
  it('a hung push is abandoned when the request budget runs out: 502, not a held request', async () => {
    const rig = await startApnsRig({ app: { response_timeout_ms: 60000 }, budgetMs: 500 });
    try {
      const pushkey = pushkeyFor('hang-budget');
      rig.fake.script(hexToken(pushkey), 'hang', 'hang', 'hang');
      const res = await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: '$hb' }));
      assert.equal(res.status, 502);
      // The budget's AbortSignal reached the transport: the hung stream was cancelled (RST_STREAM
      // CANCEL), not left open until the 60 s response timeout.
      const hung = rig.fake.requestsFor(hexToken(pushkey));
      assert.ok(hung.length >= 1);
      for (let i = 0; i < 100 && !hung.every((r) => r.cancelledByClient); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(hung.every((r) => r.cancelledByClient));
      // The session is still usable afterwards.
      const ok = await rig.gw.notify(
        exampleNotification([device(APP_ID, pushkeyFor('after-hang'))], { event_id: '$ah' }),
      );
      assert.equal(ok.status, 200);
    } finally {
      await rig.close();
    }
  });

  it('nothing listening at the endpoint → 502 (temporary, retried), counted as a connect failure', async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const rig = await startApnsRig({
      app: { endpoint: `https://localhost:${port}`, connect_timeout_ms: 500 },
    });
    try {
      const res = await rig.gw.notify(
        exampleNotification([device(APP_ID, pushkeyFor('refused'))], { event_id: '$rf' }),
      );
      assert.equal(res.status, 502);
      const text = await rig.gw.app.metrics.registry.metrics();
      assert.match(text, /herald_provider_responses_total\{[^}]*status="network",reason="connect"\} 3/);
      assert.match(text, /herald_retries_total\{[^}]*provider="apns"\} 2/);
    } finally {
      await rig.close();
    }
  });

  it('closes its connections on shutdown', async () => {
    const rig = await startApnsRig();
    await rig.gw.notify(exampleNotification([device(APP_ID, pushkeyFor('shutdown'))], { event_id: '$sd' }));
    assert.equal(rig.fake.openConnections(), 1);
    await rig.gw.close();
    for (let i = 0; i < 100 && rig.fake.openConnections() > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(rig.fake.openConnections(), 0);
    await rig.fake.close();
  });
});

describe("apns transport: Sygnal's top-level proxy", () => {
  it('tunnels the TLS connection through HTTP CONNECT (the proxy sees only host:port)', async () => {
    const connects: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
      connects.push(String(req.url));
      const [host, port] = String(req.url).split(':');
      const upstream = connect(Number(port), host === 'localhost' ? '127.0.0.1' : host!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    for (const mode of ['token', 'cert'] as const) {
      connects.length = 0;
      const rig = await startApnsRig({ mode, proxy: `http://127.0.0.1:${port}` });
      try {
        const pushkey = pushkeyFor(`proxied-${mode}`);
        const res = await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: '$px' }));
        assert.equal(res.status, 200);
        assert.deepEqual(rig.fake.requestsFor(hexToken(pushkey))[0]!.answer, { status: 200, reason: '' });
        assert.deepEqual(connects, [new URL(rig.fake.url).host]);
      } finally {
        await rig.close();
      }
    }
    proxy.close();
  });

  it('a proxy URL the tunnel cannot use fails each push at once as a connect failure, every time', async () => {
    // `%E0` in the credentials parses as a URL (config accepts it) but is no valid %-escape, so the
    // tunnel throws before it returns a promise. That used to leave the pool counting a tunnel
    // "being opened" forever: later pushes waited for it until the request budget ran out.
    const rig = await startApnsRig({ proxy: 'http://%E0@127.0.0.1:9', budgetMs: 1000 });
    try {
      for (const label of ['bad-proxy-a', 'bad-proxy-b']) {
        const res = await rig.gw.notify(
          exampleNotification([device(APP_ID, pushkeyFor(label))], { event_id: `$${label}` }),
        );
        assert.equal(res.status, 502, label);
      }
      const text = await rig.gw.app.metrics.registry.metrics();
      // Two pushes × three attempts, each refused by the pool as a connect failure.
      assert.match(text, /herald_provider_responses_total\{[^}]*status="network",reason="connect"\} 6/);
      assert.doesNotMatch(text, /reason="aborted"/);
      assert.equal(rig.fake.requests.length, 0);
      assert.ok(rig.gw.logs.some((line) => line.msg === 'cannot reach APNs through the proxy'));
    } finally {
      await rig.close();
    }
  });
});
