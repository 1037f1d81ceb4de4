/** FCM: HTTP/2 multiplexing, reconnects, timeouts and the request budget. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FCM_APP, type FcmWorld, startFcmWorld } from '../fakes/fake-fcm-setup.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';

let world: FcmWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

let n = 0;
function one(pushkey: string) {
  return exampleNotification([device(FCM_APP, pushkey)], { event_id: `$t${++n}` });
}

describe('FCM: transport', () => {
  it('multiplexes many pushes over one HTTP/2 connection', async () => {
    world = await startFcmWorld();
    const w = world;
    for (let i = 0; i < 20; i++) assert.equal((await w.gw.notify(one(`ok-seq-${i}`))).status, 200);
    const burst = await Promise.all(Array.from({ length: 100 }, (_, i) => w.gw.notify(one(`ok-burst-${i}`))));
    assert.deepEqual(new Set(burst.map((r) => r.status)), new Set([200]));
    assert.equal(w.fcm.received.length, 120);
    assert.equal(w.fcm.sessions, 1);
  });

  it('opens another connection only when one is full, up to max_connections', async () => {
    world = await startFcmWorld({ appYaml: 'max_connections: 2' });
    const w = world;
    w.oauth.delayMs = 200; // all 250 pushes wait for the first token, then go at once
    // 250 pushes at once, each connection carrying at most 100: 2 connections, the rest queued.
    const burst = await Promise.all(Array.from({ length: 250 }, (_, i) => w.gw.notify(one(`ok-many-${i}`))));
    assert.deepEqual(new Set(burst.map((r) => r.status)), new Set([200]));
    assert.equal(w.fcm.received.length, 250);
    assert.equal(w.fcm.sessions, 2);
  });

  it('reconnects after the server sends GOAWAY', async () => {
    world = await startFcmWorld();
    assert.equal((await world.gw.notify(one('ok-before'))).status, 200);
    world.fcm.goAwayAll();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await world.gw.notify(one('ok-after'))).status, 200);
    assert.equal(world.fcm.sessions, 2);
    assert.equal(world.fcm.received.at(-1)!.session, 2);
  });

  it('answers 502 when FCM cannot be reached, and the gateway stays up', async () => {
    world = await startFcmWorld();
    await world.fcm.close();
    const res = await world.gw.notify(one('ok-down'));
    assert.equal(res.status, 502);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
    assert.equal((await world.gw.request('/health')).status, 200);
  });

  it('cancels a push FCM does not answer when the request budget runs out', async () => {
    world = await startFcmWorld({
      yaml: (base) => base.replace('request_budget_ms: 3000', 'request_budget_ms: 400'),
    });
    const res = await world.gw.notify(one('hang-budget'));
    assert.equal(res.status, 502);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(world.fcm.received.length, 1);
    assert.equal(world.fcm.cancelled, 1);
    // The connection survived the cancelled stream.
    assert.equal((await world.gw.notify(one('ok-after-hang'))).status, 200);
    assert.equal(world.fcm.sessions, 1);
  });
});
