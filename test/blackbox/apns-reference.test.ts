/** APNs end to end, payload side (REFERENCE §4): what the fake APNs receives for each notification. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP_ID, type ApnsRig, hexToken, pushkeyFor, startApnsRig, TOPIC } from '../fakes/fake-apns-setup.ts';
import { badgeOnlyNotification, device, exampleNotification } from '../helpers/fixtures.ts';

describe('apns: the reference case and the headers', () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig();
  });
  after(() => rig.close());

  it("sends the spec's example exactly as Sygnal does (pushkey spqr → /3/device/b29aab)", async () => {
    const res = await rig.gw.notify(exampleNotification([device(APP_ID, 'spqr', { tweaks: {} })]));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    const [req, ...more] = rig.fake.requestsFor('b29aab');
    assert.equal(more.length, 0);
    assert.equal(req!.method, 'POST');
    assert.equal(req!.path, '/3/device/b29aab');
    assert.equal(req!.headers['apns-priority'], '10');
    assert.equal(req!.headers['apns-topic'], TOPIC);
    assert.equal(
      req!.body,
      '{"aps":{"alert":{"loc-key":"MSG_FROM_USER_IN_ROOM_WITH_CONTENT","loc-args":["Major Tom","Mission Control",' +
        '"I\'m floating in a most peculiar way."]},"badge":3},"room_id":"!slw48wfj34rtnrf:example.com",' +
        '"event_id":"$qTOWWTEL48yPm3uT-gdNhFcoHxfKbZuqRVnnWWSkGBs"}',
    );
    assert.deepEqual(req!.answer, { status: 200, reason: '' });
  });

  it('puts tweaks.sound into aps.sound', async () => {
    const pushkey = pushkeyFor('sound');
    const res = await rig.gw.notify(
      exampleNotification([device(APP_ID, pushkey, { tweaks: { sound: 'bing' } })], { event_id: '$sound' }),
    );
    assert.equal(res.status, 200);
    const body = JSON.parse(rig.fake.requestsFor(hexToken(pushkey))[0]!.body);
    assert.equal(body.aps.sound, 'bing');
    assert.deepEqual(Object.keys(body.aps), ['alert', 'badge', 'sound']);
  });

  it('leaves out a tweaks.sound that is no sound name (5 KB, or not a string) and still delivers', async () => {
    for (const [label, sound] of [
      ['sound-huge', 'x'.repeat(5000)],
      ['sound-object', { name: 'bing' }],
    ] as const) {
      const pushkey = pushkeyFor(label);
      const res = await rig.gw.notify(
        exampleNotification([device(APP_ID, pushkey, { tweaks: { sound } })], { event_id: `$${label}` }),
      );
      assert.equal(res.status, 200, label);
      assert.deepEqual(res.json, { rejected: [] });
      const [req, ...more] = rig.fake.requestsFor(hexToken(pushkey));
      assert.equal(more.length, 0);
      const body = JSON.parse(req!.body);
      assert.deepEqual(Object.keys(body.aps), ['alert', 'badge'], label);
      // The message itself was not cut to make room for the sound.
      assert.equal(body.aps.alert['loc-args'][2], "I'm floating in a most peculiar way.");
    }
  });

  it('sends apns-push-type alert for an alert when push_type is not configured', async () => {
    const pushkey = pushkeyFor('pushtype');
    await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: '$pt' }));
    assert.equal(rig.fake.requestsFor(hexToken(pushkey))[0]!.headers['apns-push-type'], 'alert');
  });

  it('sends no apns-push-type for a badge-only update (no aps.alert), never a guessed background', async () => {
    const pushkey = pushkeyFor('badgeheader');
    await rig.gw.notify(badgeOnlyNotification([device(APP_ID, pushkey)], 4));
    const req = rig.fake.requestsFor(hexToken(pushkey))[0]!;
    assert.equal(req.headers['apns-push-type'], undefined);
    assert.equal(req.body, '{"aps":{"badge":4}}');
  });

  it('sends apns-priority 5 for prio low', async () => {
    const pushkey = pushkeyFor('low');
    await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: '$low', prio: 'low' }));
    assert.equal(rig.fake.requestsFor(hexToken(pushkey))[0]!.headers['apns-priority'], '5');
  });

  it('sends an apns-id in UUID form and a bearer provider token', async () => {
    const pushkey = pushkeyFor('id');
    await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: '$id' }));
    const req = rig.fake.requestsFor(hexToken(pushkey))[0]!;
    assert.match(
      String(req.headers['apns-id']),
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    );
    assert.equal(typeof req.jwt, 'string');
  });

  it('an m.room.member that is not an invite carries only the badge (omitted counts are 0)', async () => {
    const pushkey = pushkeyFor('nothing');
    const res = await rig.gw.notify({
      notification: {
        event_id: '$member',
        room_id: '!r:example.com',
        type: 'm.room.member',
        sender: '@a:example.com',
        membership: 'join',
        devices: [device(APP_ID, pushkey)],
      },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    // With badges on, a member event still carries the badge (counts omitted count as 0).
    const req = rig.fake.requestsFor(hexToken(pushkey))[0]!;
    assert.equal(req.body, '{"aps":{"badge":0}}');
  });
});

describe('apns: send_badge_counts false and push_type configured', () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig({ app: { send_badge_counts: false, push_type: 'voip' } });
  });
  after(() => rig.close());

  it('answers 200 and calls APNs not at all when there is nothing to send', async () => {
    const pushkey = pushkeyFor('nobadge');
    const res = await rig.gw.notify(badgeOnlyNotification([device(APP_ID, pushkey)], 3));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    assert.equal(rig.fake.requestsFor(hexToken(pushkey)).length, 0);
    assert.ok(
      rig.gw.logs.some(
        (l) => String(l.msg).includes('push dropped') && String(l.reason).includes('nothing to send'),
      ),
    );
  });

  it('sends the configured push_type and no badge', async () => {
    const pushkey = pushkeyFor('voip');
    await rig.gw.notify(
      exampleNotification([device(APP_ID, pushkey, { tweaks: {} })], { event_id: '$voip' }),
    );
    const req = rig.fake.requestsFor(hexToken(pushkey))[0]!;
    assert.equal(req.headers['apns-push-type'], 'voip');
    assert.equal(JSON.parse(req.body).aps.badge, undefined);
  });

  it('event_id_only: default_payload plus ids, no counts when badges are off', async () => {
    const pushkey = pushkeyFor('eio');
    await rig.gw.notify({
      notification: {
        event_id: '$eio',
        room_id: '!r:example.com',
        counts: { unread: 2 },
        devices: [
          device(APP_ID, pushkey, {
            data: { format: 'event_id_only', default_payload: { aps: { 'mutable-content': 1 } } },
          }),
        ],
      },
    });
    assert.equal(
      rig.fake.requestsFor(hexToken(pushkey))[0]!.body,
      '{"aps":{"mutable-content":1},"room_id":"!r:example.com","event_id":"$eio"}',
    );
  });
});
