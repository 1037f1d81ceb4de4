/** FCM behind Sygnal's top-level `proxy`: token requests and pushes both go through CONNECT tunnels. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeProxy, startFakeProxy } from '../fakes/fake-fcm-proxy.ts';
import { FCM_APP, type FcmWorld, startFcmWorld } from '../fakes/fake-fcm-setup.ts';
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
