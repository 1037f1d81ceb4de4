/** FCM: what the homeserver gets back for each FCM answer (REFERENCE §5 answer table). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FCM_APP, type FcmWorld, offsetClock, startFcmWorld } from '../fakes/fake-fcm-setup.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';

describe('FCM: the answer table', () => {
  let world: FcmWorld;
  let n = 0;
  before(async () => {
    world = await startFcmWorld({ appYaml: 'response_timeout_ms: 300' });
  });
  after(() => world.close());

  /** Notifies one device (fresh event_id each time) and counts how often FCM was asked. */
  async function notify(pushkey: string) {
    const before = world.fcm.received.length;
    const res = await world.gw.notify(
      exampleNotification([device(FCM_APP, pushkey)], { event_id: `$e${++n}` }),
    );
    const attempts = world.fcm.received.slice(before).filter((p) => p.pushkey === pushkey).length;
    return { res, attempts };
  }

  const table: { pushkey: string; status: number; rejected: boolean; attempts?: number; why: string }[] = [
    { pushkey: 'ok-1', status: 200, rejected: false, attempts: 1, why: '200 → delivered' },
    {
      pushkey: 'unregistered-1',
      status: 200,
      rejected: true,
      attempts: 1,
      why: '404 UNREGISTERED → rejected',
    },
    {
      pushkey: 'html404-1',
      status: 502,
      rejected: false,
      attempts: 1,
      why: "404 without FCM's error body (a proxy, a wrong endpoint) → 502, never rejected",
    },
    {
      pushkey: 'badtoken-1',
      status: 200,
      rejected: true,
      attempts: 1,
      why: '400 INVALID_ARGUMENT on message.token → rejected',
    },
    {
      pushkey: 'notvalid-1',
      status: 200,
      rejected: true,
      attempts: 1,
      why: '400 "not a valid FCM registration token" → rejected',
    },
    { pushkey: 'badpayload-1', status: 502, rejected: false, attempts: 1, why: 'other 400 → permanent 502' },
    { pushkey: 'mismatch-1', status: 502, rejected: false, attempts: 1, why: '403 SENDER_ID_MISMATCH → 502' },
    {
      pushkey: 'thirdparty-1',
      status: 502,
      rejected: false,
      attempts: 1,
      why: '401 THIRD_PARTY_AUTH_ERROR → 502',
    },
    { pushkey: 'internal-1', status: 502, rejected: false, attempts: 3, why: '500 → retried, then 502' },
    { pushkey: 'unavailable-1', status: 502, rejected: false, attempts: 3, why: '503 → retried, then 502' },
    { pushkey: 'flaky-1', status: 200, rejected: false, attempts: 2, why: '503 once → retried → delivered' },
    {
      pushkey: 'hang-1',
      status: 502,
      rejected: false,
      attempts: 3,
      why: 'no answer → timeout, retried, 502',
    },
  ];
  for (const row of table) {
    it(row.why, async () => {
      const { res, attempts } = await notify(row.pushkey);
      assert.equal(res.status, row.status, res.text);
      if (res.status === 200) assert.deepEqual(res.json, { rejected: row.rejected ? [row.pushkey] : [] });
      else assert.equal(res.json.errcode, 'M_UNKNOWN');
      if (row.attempts !== undefined) assert.equal(attempts, row.attempts);
      // Every request carried a valid token: nothing was refused before its scripted answer.
      assert.deepEqual(world.fcm.refusals, []);
    });
  }

  it('honours Retry-After on 429: one longer than the budget means 502 at once, no retry', async () => {
    world.fcm.retryAfter = '3600';
    const long = await notify('quota-1');
    assert.equal(long.res.status, 502);
    assert.equal(long.attempts, 1);
    world.fcm.retryAfter = '0';
    const zero = await notify('quota-2');
    assert.equal(zero.res.status, 502);
    assert.equal(zero.attempts, 3);
  });

  it('logs a permanent refusal loudly, without the pushkey', async () => {
    const before = world.gw.logs.length;
    await notify('mismatch-log-secret');
    const lines = world.gw.logs.slice(before);
    const loud = lines.find(
      (l) => l.level === 50 && String(l.msg).includes('FCM refused the push permanently'),
    );
    assert.ok(loud, JSON.stringify(lines));
    assert.equal(loud.fcm_error, 'SENDER_ID_MISMATCH');
    assert.ok(!JSON.stringify(lines).includes('mismatch-log-secret'));
  });

  it('one dead device does not hide a delivered one in the same request', async () => {
    const res = await world.gw.notify(
      exampleNotification([device(FCM_APP, 'ok-pair'), device(FCM_APP, 'unregistered-pair')], {
        event_id: '$pair',
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: ['unregistered-pair'] });
  });

  it('counts request times, answers by status and reason, and token refreshes', async () => {
    const metrics = await world.gw.app.metrics.registry.getMetricsAsJSON();
    const values = (name: string) => metrics.find((m) => m.name === name)?.values ?? [];
    const responses = values('herald_provider_responses_total');
    const find = (status: string, reason: string) =>
      responses.find(
        (v) =>
          v.labels.app === FCM_APP &&
          v.labels.provider === 'gcm' &&
          v.labels.status === status &&
          v.labels.reason === reason,
      )?.value ?? 0;
    assert.ok(find('200', '') >= 1);
    assert.ok(find('404', 'UNREGISTERED') >= 1);
    assert.ok(find('403', 'SENDER_ID_MISMATCH') >= 1);
    assert.ok(find('429', 'QUOTA_EXCEEDED') >= 1);
    assert.ok(find('network', 'network') >= 1);
    const durations = values('herald_provider_request_duration_seconds').find(
      (v) => v.labels.app === FCM_APP && (v as { metricName?: string }).metricName?.endsWith('_count'),
    );
    assert.ok(durations && durations.value >= 10);
    const refreshes = values('herald_auth_token_refreshes_total').find(
      (v) => v.labels.app === FCM_APP && v.labels.result === 'success',
    );
    assert.equal(refreshes?.value, 1);
    // No metric label carries a pushkey.
    assert.ok(!JSON.stringify(metrics).includes('unregistered-1'));
  });
});

describe('FCM: Retry-After as an HTTP date', () => {
  it('is measured on the gateway clock', async () => {
    const clock = offsetClock();
    clock.advance(3_600_000); // the gateway's clock runs an hour ahead of the host's
    const world = await startFcmWorld({ clock });
    try {
      // "Now" on the gateway clock: no wait. Measured on the host clock it would be an hour away,
      // past the budget, and the push would fail without a retry.
      world.fcm.retryAfter = new Date(clock.now()).toUTCString();
      const res = await world.gw.notify(
        exampleNotification([device(FCM_APP, 'quota-date')], { event_id: '$qd' }),
      );
      assert.equal(res.status, 502);
      assert.equal(world.fcm.received.filter((p) => p.pushkey === 'quota-date').length, 3);
    } finally {
      await world.close();
    }
  });
});
