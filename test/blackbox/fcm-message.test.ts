/** FCM: what the FCM endpoint receives for a notification (REFERENCE §5), end to end. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FCM_APP, type FcmWorld, PROJECT_ID, startFcmWorld } from '../fakes/fake-fcm-setup.ts';
import { badgeOnlyNotification, device, exampleNotification } from '../helpers/fixtures.ts';

const FCM_OPTIONS_YAML = `
fcm_options:
  android:
    notification:
      body: test body
  apns:
    payload:
      aps:
        content-available: 1
        mutable-content: 1
        alert: ""
`;

describe('FCM: the message sent', () => {
  let world: FcmWorld;
  before(async () => {
    world = await startFcmWorld({ appYaml: FCM_OPTIONS_YAML });
  });
  after(() => world.close());

  async function push(body: unknown) {
    const before = world.fcm.received.length;
    const res = await world.gw.notify(body);
    return { res, pushes: world.fcm.received.slice(before) };
  }

  it("sends Sygnal's canonical v1 request for the spec example (issue 4)", async () => {
    const { res, pushes } = await push(
      exampleNotification([device(FCM_APP, 'spqr')], {
        content: { msgtype: 'm.text', body: "I'm floating in a most peculiar way.", other: 1 },
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0]!.path, `/v1/projects/${PROJECT_ID}/messages:send`);
    assert.deepEqual(
      pushes[0]!.body,
      JSON.parse(
        '{"message":{"android":{"notification":{"body":"test body"},"priority":"high"},"apns":{"payload":{"aps":{"content-available":1,"mutable-content":1,"alert":""}}},"data":{"event_id":"$qTOWWTEL48yPm3uT-gdNhFcoHxfKbZuqRVnnWWSkGBs","type":"m.room.message","sender":"@exampleuser:matrix.org","room_name":"Mission Control","room_alias":"#exampleroom:matrix.org","sender_display_name":"Major Tom","content_msgtype":"m.text","content_body":"I\'m floating in a most peculiar way.","room_id":"!slw48wfj34rtnrf:example.com","prio":"high","unread":"2","missed_calls":"1"},"token":"spqr"}}',
      ),
    );
  });

  it('never lets one push change fcm_options for the next (priority, android block)', async () => {
    const low = await push(
      exampleNotification([device(FCM_APP, 'ok-low')], { event_id: '$low', prio: 'low' }),
    );
    const high = await push(exampleNotification([device(FCM_APP, 'ok-high')], { event_id: '$high' }));
    const again = await push(
      exampleNotification([device(FCM_APP, 'ok-low2')], { event_id: '$low2', prio: 'low' }),
    );
    assert.deepEqual(low.pushes[0]!.body.message.android, {
      notification: { body: 'test body' },
      priority: 'normal',
    });
    assert.equal(low.pushes[0]!.body.message.data!.prio, 'normal');
    assert.deepEqual(high.pushes[0]!.body.message.android, {
      notification: { body: 'test body' },
      priority: 'high',
    });
    assert.deepEqual(again.pushes[0]!.body.message.android, low.pushes[0]!.body.message.android);
    for (const { res } of [low, high, again]) assert.equal(res.status, 200);
  });

  it('sends a badge-only update with a count of 0 (so the badge clears)', async () => {
    const { res, pushes } = await push(badgeOnlyNotification([device(FCM_APP, 'ok-badge')], 0));
    assert.equal(res.status, 200);
    assert.deepEqual(pushes[0]!.body.message.data, { sender: '', prio: 'high', unread: '0' });
  });

  it('sends what an event_id_only pusher gets from Synapse', async () => {
    const { res, pushes } = await push({
      notification: {
        event_id: '$eventonly',
        room_id: '!r:example.org',
        counts: { unread: 1 },
        prio: 'low',
        devices: [device(FCM_APP, 'ok-eio', { data: { format: 'event_id_only' }, tweaks: {} })],
      },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(pushes[0]!.body.message.data, {
      event_id: '$eventonly',
      room_id: '!r:example.org',
      prio: 'normal',
      unread: '1',
    });
  });

  it('puts default_payload first, every value a string (nested values JSON-encoded)', async () => {
    const { res, pushes } = await push(
      exampleNotification(
        [
          device(FCM_APP, 'ok-dp', {
            data: { default_payload: { nested: { a: [1, { b: 'c' }] }, number: 3, flag: false, text: 'x' } },
          }),
        ],
        { event_id: '$dp' },
      ),
    );
    assert.equal(res.status, 200, JSON.stringify(world.fcm.refusals));
    const data = pushes[0]!.body.message.data!;
    assert.deepEqual(Object.keys(data).slice(0, 5), ['nested', 'number', 'flag', 'text', 'event_id']);
    assert.equal(data.nested, '{"a":[1,{"b":"c"}]}');
    assert.equal(data.number, '3');
    assert.equal(data.flag, 'false');
    assert.equal(data.text, 'x');
  });

  it('drops a push with nothing to say (no room_id, event_id or counts) without calling FCM', async () => {
    const { res, pushes } = await push({
      notification: { type: null, sender: '', devices: [device(FCM_APP, 'ok-empty')] },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    assert.equal(pushes.length, 0);
  });

  it('rejects a pusher whose default_payload alone can never fit, without calling FCM', async () => {
    const huge = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`key_${i}`, i]));
    const { res, pushes } = await push(
      exampleNotification(
        [device(FCM_APP, 'ok-hugepayload', { data: { default_payload: huge } }), device(FCM_APP, 'ok-next')],
        { event_id: '$huge' },
      ),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: ['ok-hugepayload'] });
    assert.deepEqual(
      pushes.map((p) => p.pushkey),
      ['ok-next'],
    );
  });

  it('keeps large multi-byte fields within 1024 bytes each and the data within 4096 bytes', async () => {
    const { res, pushes } = await push(
      exampleNotification([device(FCM_APP, 'ok-large')], {
        event_id: '$large',
        room_name: '€'.repeat(2000),
        sender_display_name: '😀'.repeat(700),
        room_alias: `#${'ü'.repeat(900)}`,
        content: { msgtype: 'm.text', body: '日本語'.repeat(600), formatted_body: 'é'.repeat(1500) },
      }),
    );
    assert.equal(res.status, 200, JSON.stringify(world.fcm.refusals));
    const data = pushes[0]!.body.message.data as Record<string, string>;
    assert.ok(Buffer.byteLength(JSON.stringify(data)) <= 4096);
    assert.equal(data.event_id, '$large');
    assert.equal(data.room_id, '!slw48wfj34rtnrf:example.com');
    assert.equal(data.unread, '2');
    for (const [key, value] of Object.entries(data)) {
      assert.ok(Buffer.byteLength(value) <= 1024, key);
      assert.ok(!value.includes('\uFFFD'), key);
      assert.ok(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(value), `${key}: broken surrogate pair`);
    }
    assert.ok(data.content_body!.endsWith('…'));
  });
});

describe('FCM: send_badge_counts: false', () => {
  let world: FcmWorld;
  before(async () => {
    world = await startFcmWorld({ appYaml: 'send_badge_counts: false' });
  });
  after(() => world.close());

  it('leaves the counts out, and drops a badge-only update', async () => {
    const res = await world.gw.notify(exampleNotification([device(FCM_APP, 'ok-nobadge')]));
    assert.equal(res.status, 200);
    const data = world.fcm.received[0]!.body.message.data!;
    assert.equal(data.unread, undefined);
    assert.equal(data.missed_calls, undefined);
    assert.equal(data.event_id, '$qTOWWTEL48yPm3uT-gdNhFcoHxfKbZuqRVnnWWSkGBs');

    const badge = await world.gw.notify(badgeOnlyNotification([device(FCM_APP, 'ok-nobadge2')], 3));
    assert.equal(badge.status, 200);
    assert.equal(world.fcm.received.length, 1);
  });
});
