/** FCM behind Sygnal's top-level `proxy`: token requests and pushes both go through CONNECT tunnels. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Http2Pool } from '../../src/net/http2-pool.ts';
import { type FakeFcm, startFakeFcm } from '../fakes/fake-fcm.ts';
import { type FakeProxy, startFakeProxy } from '../fakes/fake-fcm-proxy.ts';
import { FCM_APP, type FcmWorld, PROJECT_ID, startFcmWorld } from '../fakes/fake-fcm-setup.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';

describe('FCM: proxy', () => {
  let proxy: FakeProxy;
  let world: FcmWorld;
  before(async () => {
    proxy = await startFakeProxy();
    world = await startFcmWorld({ yaml: (base) => `proxy: ${proxy.url}\n${base}` });
  });
  after(async () => {
    await world.close();
    await proxy.close();
  });

  it('tunnels the token request and the HTTP/2 session through the proxy, reusing the tunnel', async () => {
    const w = world;
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        w.gw.notify(exampleNotification([device(FCM_APP, `ok-proxy-${i}`)], { event_id: `$p${i}` })),
      ),
    );
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    const oauthTarget = new URL(w.oauth.tokenUri).host;
    const fcmTarget = new URL(w.fcm.url).host;
    assert.deepEqual(
      proxy.tunnels.filter((t) => t === fcmTarget),
      [fcmTarget],
    );
    assert.ok(proxy.tunnels.includes(oauthTarget));
    assert.equal(w.fcm.sessions, 1);
    assert.equal(w.fcm.received.length, 20);
  });
});

describe('FCM: a proxy whose tunnel never speaks TLS', () => {
  let proxy: FakeProxy;
  let world: FcmWorld;
  before(async () => {
    proxy = await startFakeProxy();
    world = await startFcmWorld({
      yaml: (base) => `proxy: ${proxy.url}\n${base}`,
      appYaml: 'connect_timeout_ms: 200',
    });
  });
  after(async () => {
    await world.close();
    await proxy.close();
  });

  it('gives up on the TLS handshake, answers 502, and a later working tunnel succeeds', {
    timeout: 15_000,
  }, async () => {
    const fcmTarget = new URL(world.fcm.url).host;
    proxy.blackhole.add(fcmTarget);
    const stuck = await world.gw.notify(
      exampleNotification([device(FCM_APP, 'ok-blackhole')], { event_id: '$bh1' }),
    );
    assert.equal(stuck.status, 502);
    assert.equal(world.fcm.received.length, 0);

    proxy.blackhole.delete(fcmTarget);
    // As a homeserver would: retry until the pool's connect backoff (250 ms after one failure,
    // doubling) lets it dial again.
    let res = await world.gw.notify(
      exampleNotification([device(FCM_APP, 'ok-after-blackhole')], { event_id: '$bh2' }),
    );
    for (let tries = 1; res.status !== 200 && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      res = await world.gw.notify(
        exampleNotification([device(FCM_APP, 'ok-after-blackhole')], { event_id: '$bh2' }),
      );
    }
    assert.equal(res.status, 200);
    assert.deepEqual(
      world.fcm.received.map((p) => p.pushkey),
      ['ok-after-blackhole'],
    );
  });
});

describe('FCM transport through a proxy', () => {
  let proxy: FakeProxy;
  let fcm: FakeFcm;
  before(async () => {
    proxy = await startFakeProxy();
    fcm = await startFakeFcm({ projectId: PROJECT_ID, isValidToken: () => true });
  });
  after(async () => {
    await fcm.close();
    await proxy.close();
  });

  const request = (transport: Http2Pool, signal?: AbortSignal) =>
    transport.request({
      path: `/v1/projects/${PROJECT_ID}/messages:send`,
      headers: { authorization: 'Bearer t', 'content-type': 'application/json' },
      body: JSON.stringify({ message: { token: 'ok-direct' } }),
      ...(signal ? { signal } : {}),
    });

  it('stops waiting for a tunnel that never opens when the request budget ends', {
    timeout: 5000,
  }, async () => {
    const target = new URL(fcm.url).host;
    proxy.blackhole.add(target);
    const transport = new Http2Pool({
      origin: fcm.url,
      maxSessions: 1,
      connectTimeoutMs: 60_000,
      responseTimeoutMs: 60_000,
      proxy: proxy.url,
    });
    try {
      await assert.rejects(request(transport, AbortSignal.timeout(100)), /budget/);
    } finally {
      proxy.blackhole.delete(target);
      await transport.close();
    }
  });

  it('a tunnel that finishes opening after close() is destroyed, not used', async () => {
    proxy.delayMs = 200;
    const transport = new Http2Pool({
      origin: fcm.url,
      maxSessions: 1,
      connectTimeoutMs: 5000,
      responseTimeoutMs: 5000,
      proxy: proxy.url,
    });
    try {
      const before = fcm.received.length;
      const pending = request(transport);
      await transport.close();
      await assert.rejects(pending, /transport closed/);
      assert.equal(transport.sessionCount, 0);
      assert.equal(fcm.received.length, before);
    } finally {
      proxy.delayMs = 0;
    }
  });
});
