/** FCM: OAuth2 access tokens from the service account (single refresh, reuse, refresh, failure). */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FCM_APP, type FcmWorld, offsetClock, startFcmWorld } from '../fakes/fake-fcm-setup.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';

let world: FcmWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function refreshes(w: FcmWorld, result: string): Promise<number> {
  const { values } = await w.gw.app.metrics.tokenRefreshes.get();
  return values
    .filter((v) => v.labels.app === FCM_APP && v.labels.result === result)
    .reduce((sum, v) => sum + v.value, 0);
}

describe('FCM: access tokens', () => {
  it('100 concurrent pushes on a cold start cause exactly one token request', async () => {
    world = await startFcmWorld();
    world.oauth.delayMs = 150; // every push is waiting while the one refresh is in flight
    const w = world;
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        w.gw.notify(exampleNotification([device(FCM_APP, `ok-cold-${i}`)], { event_id: `$cold${i}` })),
      ),
    );
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    assert.equal(w.oauth.requests, 1);
    assert.equal(w.fcm.received.length, 100);
    assert.deepEqual(w.oauth.refusals, []);
    assert.equal(await refreshes(w, 'success'), 1);
  });

  it('reuses the token until shortly before it expires, then refreshes it once', async () => {
    const clock = offsetClock();
    world = await startFcmWorld({ clock });
    const w = world;
    let n = 0;
    const push = async () => {
      const res = await w.gw.notify(
        exampleNotification([device(FCM_APP, 'ok-reuse')], { event_id: `$r${++n}` }),
      );
      assert.equal(res.status, 200, res.text);
    };
    await push();
    await push();
    assert.equal(w.oauth.requests, 1);
    clock.advance(50 * 60_000); // 50 of the token's 60 minutes: still fresh
    await push();
    assert.equal(w.oauth.requests, 1);
    clock.advance(7 * 60_000); // 3 minutes left: inside the refresh margin
    const oldToken = w.fcm.received.at(-1)!.authorization;
    // The token is still valid: the push goes at once with it, while one refresh runs in the background.
    await Promise.all([push(), push()]);
    assert.deepEqual(
      w.fcm.received.slice(-2).map((p) => p.authorization),
      [oldToken, oldToken],
    );
    // Once the background refresh lands, pushes carry the new token.
    for (let i = 0; i < 100 && w.fcm.received.at(-1)!.authorization === oldToken; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await push();
    }
    assert.equal(w.oauth.requests, 2);
    assert.notEqual(w.fcm.received.at(-1)!.authorization, oldToken);
    const tokens = new Set(w.fcm.received.map((p) => p.authorization));
    assert.equal(tokens.size, 2);
    assert.deepEqual(w.oauth.refusals, []);
  });

  it('a failed token refresh answers 502 and the gateway keeps working once the endpoint recovers', async () => {
    world = await startFcmWorld();
    world.oauth.failing = true;
    const failed = await world.gw.notify(
      exampleNotification([device(FCM_APP, 'ok-fail')], { event_id: '$f1' }),
    );
    assert.equal(failed.status, 502);
    assert.equal(failed.json.errcode, 'M_UNKNOWN');
    assert.equal(world.fcm.received.length, 0);
    assert.ok((await refreshes(world, 'error')) >= 1);
    const health = await world.gw.request('/health');
    assert.equal(health.status, 200);

    world.oauth.failing = false;
    const ok = await world.gw.notify(exampleNotification([device(FCM_APP, 'ok-fail')], { event_id: '$f2' }));
    assert.equal(ok.status, 200);
    assert.equal(world.fcm.received.length, 1);
  });

  it('a token FCM stops accepting (401) answers 502 and the next push gets a new token', async () => {
    world = await startFcmWorld();
    const first = await world.gw.notify(exampleNotification([device(FCM_APP, 'ok-a')], { event_id: '$a1' }));
    assert.equal(first.status, 200);
    world.oauth.issued.clear(); // revoked
    const refused = await world.gw.notify(
      exampleNotification([device(FCM_APP, 'ok-a')], { event_id: '$a2' }),
    );
    assert.equal(refused.status, 502);
    assert.deepEqual(refused.json.errcode, 'M_UNKNOWN');
    const again = await world.gw.notify(exampleNotification([device(FCM_APP, 'ok-a')], { event_id: '$a3' }));
    assert.equal(again.status, 200);
    assert.equal(world.oauth.requests, 2);
  });
});
