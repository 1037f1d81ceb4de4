/** APNs answer table (REFERENCE §4): what the homeserver gets back for each answer of the fake APNs. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FakeAnswer } from '../fakes/fake-apns.ts';
import { APP_ID, type ApnsRig, hexToken, pushkeyFor, startApnsRig } from '../fakes/fake-apns-setup.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';

let n = 0;
/** One push to a fresh device token whose answers are scripted; returns the answer and what APNs saw. */
async function push(rig: ApnsRig, answers: FakeAnswer[], label = `dev${++n}`) {
  const pushkey = pushkeyFor(label);
  rig.fake.script(hexToken(pushkey), ...answers);
  const res = await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: `$${label}` }));
  return { res, pushkey, seen: rig.fake.requestsFor(hexToken(pushkey)) };
}

function apnsIds(seen: { headers: Record<string, unknown> }[]) {
  return seen.map((r) => r.headers['apns-id']);
}

describe('apns answers: rejected', () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig();
  });
  after(() => rig.close());

  const tokenErrors: [number, string][] = [
    [400, 'BadDeviceToken'],
    [400, 'DeviceTokenNotForTopic'],
    [400, 'TopicDisallowed'],
    [410, 'Unregistered'],
    [410, 'ExpiredToken'],
  ];
  for (const [status, reason] of tokenErrors) {
    it(`${status} ${reason} → the pushkey is rejected (200), no retry`, async () => {
      const { res, pushkey, seen } = await push(rig, [{ status, reason }]);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { rejected: [pushkey] });
      assert.equal(seen.length, 1);
    });
  }

  it('a pushkey that is not base64 is rejected without calling APNs (not a 500)', async () => {
    const before = rig.fake.requests.length;
    const res = await rig.gw.notify(
      exampleNotification([device(APP_ID, 'not base64!')], { event_id: '$b64' }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: ['not base64!'] });
    assert.equal(rig.fake.requests.length, before);
  });

  it('counts answers by status and reason, and times requests', async () => {
    const text = await rig.gw.app.metrics.registry.metrics();
    assert.match(
      text,
      new RegExp(
        `herald_provider_responses_total\\{app="${APP_ID.replace(/\./g, '\\.')}",provider="apns",status="410",reason="Unregistered"\\} 1`,
      ),
    );
    assert.match(text, /herald_provider_responses_total\{[^}]*status="400",reason="BadDeviceToken"\} 1/);
    const count = /herald_provider_request_duration_seconds_count\{[^}]*provider="apns"\} (\d+)/.exec(text);
    assert.ok(count && Number(count[1]) >= 5, 'one observation per request');
    assert.doesNotMatch(text, /spqr|pushkey/);
  });
});

describe('apns answers: temporary, retried by the dispatcher with the same apns-id', () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig({ app: { response_timeout_ms: 300 } });
  });
  after(() => rig.close());

  const temporary: [string, FakeAnswer][] = [
    ['429 TooManyRequests', { status: 429, reason: 'TooManyRequests' }],
    ['500 InternalServerError', { status: 500, reason: 'InternalServerError' }],
    ['503 ServiceUnavailable', { status: 503, reason: 'ServiceUnavailable' }],
    ['a stream reset', 'reset'],
    ['GOAWAY', 'goaway'],
    ['no answer within response_timeout_ms', 'hang'],
  ];
  for (const [name, answer] of temporary) {
    it(`${name} once → retried and delivered (200), same apns-id on both tries`, async () => {
      const { res, seen } = await push(rig, [answer]);
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { rejected: [] });
      assert.equal(seen.length, 2);
      assert.deepEqual(seen[1]!.answer, { status: 200, reason: '' });
      const ids = apnsIds(seen);
      assert.equal(ids[0], ids[1]);
    });
  }

  it('counts failures without an answer by kind', async () => {
    const text = await rig.gw.app.metrics.registry.metrics();
    for (const kind of ['reset', 'goaway', 'timeout']) {
      assert.match(
        text,
        new RegExp(`herald_provider_responses_total\\{[^}]*status="network",reason="${kind}"\\} 1`),
        kind,
      );
    }
    assert.match(text, /herald_provider_responses_total\{[^}]*status="429",reason="TooManyRequests"\} 1/);
  });

  it('always temporary → 502 once the tries are used up; every try had the same apns-id', async () => {
    const busy: FakeAnswer = { status: 503, reason: 'ServiceUnavailable' };
    const { res, seen } = await push(rig, [busy, busy, busy, busy]);
    assert.equal(res.status, 502);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
    assert.equal(seen.length, 3);
    assert.equal(new Set(apnsIds(seen)).size, 1);
  });

  it('a GOAWAY does not lose the pushes queued behind it: the others of the same request are delivered', async () => {
    const pushkeys = Array.from({ length: 20 }, (_, i) => pushkeyFor(`goaway-batch-${i}`));
    rig.fake.script(hexToken(pushkeys[0]!), 'goaway');
    const res = await rig.gw.notify(
      exampleNotification(
        pushkeys.map((p) => device(APP_ID, p)),
        { event_id: '$gab' },
      ),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    for (const p of pushkeys) {
      const seen = rig.fake.requestsFor(hexToken(p));
      assert.ok(
        seen.some((r) => typeof r.answer === 'object' && r.answer.status === 200),
        'delivered',
      );
    }
  });
});

describe('apns answers: permanent', () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig();
  });
  after(() => rig.close());

  const permanent: [number, string][] = [
    [400, 'BadTopic'],
    [400, 'BadCollapseId'],
    [413, 'PayloadTooLarge'],
    [403, 'InvalidProviderToken'],
    [404, 'BadPath'],
  ];
  for (const [status, reason] of permanent) {
    it(`${status} ${reason} → 502 at once, no retry, a loud log`, async () => {
      const { res, seen } = await push(rig, [{ status, reason }]);
      assert.equal(res.status, 502);
      assert.equal(seen.length, 1);
      assert.ok(
        rig.gw.logs.some(
          (l) => l.level === 50 && String(l.msg).includes(`APNs answered ${status} ${reason}`),
        ),
        'an error-level log naming the answer',
      );
    });
  }

  it('a payload that cannot be cut to 4096 bytes → 502, nothing sent to APNs', async () => {
    const pushkey = pushkeyFor('toolarge');
    const res = await rig.gw.notify({
      notification: {
        event_id: '$toolarge',
        room_id: '!r:example.com',
        devices: [device(APP_ID, pushkey, { data: { default_payload: { blob: 'x'.repeat(5000) } } })],
      },
    });
    assert.equal(res.status, 502);
    assert.equal(rig.fake.requestsFor(hexToken(pushkey)).length, 0);
  });

  it('a 64 KB message body is cut to fit and delivered', async () => {
    const pushkey = pushkeyFor('huge');
    const body = 'Ünïcødé 😀 '.repeat(6000);
    const res = await rig.gw.notify(
      exampleNotification([device(APP_ID, pushkey)], {
        event_id: '$huge',
        content: { msgtype: 'm.text', body },
      }),
    );
    assert.equal(res.status, 200);
    const [req] = rig.fake.requestsFor(hexToken(pushkey));
    assert.ok(Buffer.byteLength(req!.body) <= 4096);
    assert.deepEqual(req!.answer, { status: 200, reason: '' });
    const args = JSON.parse(req!.body).aps.alert['loc-args'];
    assert.deepEqual(args.slice(0, 2), ['Major Tom', 'Mission Control']);
    assert.ok(body.startsWith(args[2].slice(0, -1)) && args[2].endsWith('…'));
  });
});
