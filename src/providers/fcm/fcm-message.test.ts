/** Table tests of the pure FCM message builder (REFERENCE §5). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { badgeOnlyNotification, device, exampleNotification } from '../../../test/helpers/fixtures.ts';
import { type Notification, parseNotifyBody } from '../../matrix/notification.ts';
import { buildFcmMessage, FCM_MAX_DATA_BYTES } from './fcm-message.ts';

const EXAMPLE_DATA = {
  event_id: '$qTOWWTEL48yPm3uT-gdNhFcoHxfKbZuqRVnnWWSkGBs',
  type: 'm.room.message',
  sender: '@exampleuser:matrix.org',
  room_name: 'Mission Control',
  room_alias: '#exampleroom:matrix.org',
  sender_display_name: 'Major Tom',
  content_msgtype: 'm.text',
  content_body: "I'm floating in a most peculiar way.",
  room_id: '!slw48wfj34rtnrf:example.com',
  prio: 'high',
  unread: '2',
  missed_calls: '1',
};

function notification(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}) {
  return parseNotifyBody(exampleNotification([device('app', 'spqr', { data })], overrides));
}

function build(n: Notification, fcmOptions: Record<string, unknown> = {}, sendBadgeCounts = true) {
  return buildFcmMessage(n, n.devices[0]!, { fcmOptions, sendBadgeCounts });
}

function dataOf(n: Notification, fcmOptions: Record<string, unknown> = {}, sendBadgeCounts = true) {
  const result = build(n, fcmOptions, sendBadgeCounts);
  assert.equal(result.kind, 'message');
  return result.kind === 'message' ? result.body.message.data : {};
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe('buildFcmMessage: data rules', () => {
  const cases: { name: string; n: Notification; badges?: boolean; want: Record<string, string> }[] = [
    {
      name: 'the spec example, non-string content values left out',
      n: notification({
        content: { msgtype: 'm.text', body: "I'm floating in a most peculiar way.", other: 1 },
      }),
      want: EXAMPLE_DATA,
    },
    {
      name: 'prio low becomes "normal"',
      n: notification({ prio: 'low' }),
      want: { ...EXAMPLE_DATA, prio: 'normal' },
    },
    {
      name: 'membership is copied (member events)',
      n: notification({ type: 'm.room.member', membership: 'invite', content: {} }),
      want: (() => {
        const { content_body: _b, content_msgtype: _m, ...rest } = EXAMPLE_DATA;
        return { ...rest, type: 'm.room.member', membership: 'invite' };
      })(),
    },
    {
      name: 'badge-only: counts as strings, a count of 0 included',
      n: parseNotifyBody(badgeOnlyNotification([device('app', 'spqr')], 0)),
      want: { sender: '', prio: 'high', unread: '0' },
    },
    {
      name: 'event_id_only as Synapse sends it (event_id, room_id, counts, prio)',
      n: parseNotifyBody({
        notification: {
          event_id: '$e',
          room_id: '!r:x',
          prio: 'high',
          counts: { unread: 3 },
          devices: [device('app', 'spqr', { data: { format: 'event_id_only' } })],
        },
      }),
      want: { event_id: '$e', room_id: '!r:x', prio: 'high', unread: '3' },
    },
    {
      name: 'send_badge_counts: false leaves the counts out',
      n: notification(),
      badges: false,
      want: (() => {
        const { unread: _u, missed_calls: _m, ...rest } = EXAMPLE_DATA;
        return rest;
      })(),
    },
    {
      name: 'default_payload first, non-string values JSON-encoded, notification fields win',
      n: notification(
        {},
        {
          default_payload: {
            cs: 'x',
            nested: { a: [1, 'b'] },
            n: 5,
            flag: true,
            nothing: null,
            room_name: 'overridden',
          },
        },
      ),
      want: {
        cs: 'x',
        nested: '{"a":[1,"b"]}',
        n: '5',
        flag: 'true',
        nothing: 'null',
        ...EXAMPLE_DATA,
      },
    },
  ];
  for (const { name, n, badges = true, want } of cases) {
    it(name, () => {
      const data = dataOf(n, {}, badges);
      assert.deepEqual(data, want);
      for (const value of Object.values(data)) assert.equal(typeof value, 'string');
    });
  }

  it('keeps default_payload keys ahead of the notification fields', () => {
    const data = dataOf(notification({}, { default_payload: { first: '1' } }));
    assert.deepEqual(Object.keys(data).slice(0, 2), ['first', 'event_id']);
  });

  it('sends nothing without room_id, event_id and counts', () => {
    const n = parseNotifyBody({ notification: { type: null, sender: '', devices: [device('app', 'k')] } });
    assert.equal(build(n).kind, 'nothing');
    const badgeOnly = parseNotifyBody(badgeOnlyNotification([device('app', 'k')], 4));
    assert.equal(build(badgeOnly, {}, false).kind, 'nothing');
  });

  it('cuts each field to 1024 bytes at a character boundary, ending in "…"', () => {
    const long = 'é'.repeat(600) + '😀'.repeat(10); // 1240 bytes
    const data = dataOf(notification({ room_name: long, content: { body: `a${long}` } }));
    for (const key of ['room_name', 'content_body']) {
      const value = data[key]!;
      assert.ok(Buffer.byteLength(value) <= 1024, key);
      assert.ok(value.endsWith('…'), key);
      assert.ok(!value.includes('\uFFFD'), key);
      assert.equal(Buffer.from(value).toString(), value, key);
    }
    assert.ok(data.content_body!.startsWith('aé'));
  });

  it('keeps the data within 4096 bytes by cutting the longest display fields, never identifiers', () => {
    const text = (char: string, bytes: number) => char.repeat(bytes / Buffer.byteLength(char));
    const n = notification({
      room_name: text('€', 1023),
      sender_display_name: text('ä', 1000),
      room_alias: `#${text('x', 300)}`,
      content: { body: text('😀', 1020), formatted_body: text('日', 600) },
    });
    const data = dataOf(n);
    assert.ok(Buffer.byteLength(JSON.stringify(data)) <= FCM_MAX_DATA_BYTES);
    assert.equal(data.event_id, EXAMPLE_DATA.event_id);
    assert.equal(data.room_id, EXAMPLE_DATA.room_id);
    assert.equal(data.unread, '2');
    // The shortest display field was not touched; the longest were cut with an ellipsis.
    assert.equal(data.room_alias, `#${text('x', 300)}`);
    assert.equal(data.content_formatted_body, text('日', 600));
    assert.ok(data.room_name!.endsWith('…'));
    for (const value of Object.values(data)) assert.equal(Buffer.from(value).toString(), value);
  });

  it('reports a default_payload that alone is over the limit', () => {
    const n = notification({}, { default_payload: { huge: 'x'.repeat(5000) } });
    const fits = build(n);
    // A long default_payload value is cut as a last resort rather than losing the push.
    assert.equal(fits.kind, 'message');
    // 400 keys cannot fit even with every value emptied: no push to this device can ever work.
    const many = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`key_${i}`, i]));
    assert.equal(build(notification({}, { default_payload: many })).kind, 'unusable');
  });

  it('a default_payload that fits alone but not with long identifiers is too_large, not unusable', () => {
    // ~2600 bytes of keys fit alone; with a 1000-byte event_id and room_id they do not.
    const keys = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`key_${100 + i}`, '']));
    const n = notification(
      { event_id: `$${'e'.repeat(999)}`, room_id: `!${'r'.repeat(990)}:example.com` },
      { default_payload: keys },
    );
    assert.equal(build(n).kind, 'too_large');
    assert.equal(build(notification({}, { default_payload: keys })).kind, 'message');
  });

  it('rejects a default_payload value nested too deep to encode, without throwing', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    const n = notification({}, {});
    const result = buildFcmMessage(n, { pushkey: 'spqr', data: { default_payload: { deep } } } as never, {
      fcmOptions: {},
      sendBadgeCounts: true,
    });
    assert.equal(result.kind, 'unusable');
  });
});

describe('buildFcmMessage: the message around data', () => {
  const fcmOptions = deepFreeze({
    android: { notification: { body: 'test body' } },
    apns: { payload: { aps: { 'content-available': 1, 'mutable-content': 1, alert: '' } } },
  });

  it('merges fcm_options, android.priority and the token, without mutating fcm_options', () => {
    const before = JSON.stringify(fcmOptions);
    const high = build(notification(), fcmOptions);
    const low = build(notification({ prio: 'low' }), fcmOptions);
    assert.equal(JSON.stringify(fcmOptions), before);
    assert.ok(high.kind === 'message' && low.kind === 'message');
    assert.deepEqual(high.body.message.android, { notification: { body: 'test body' }, priority: 'high' });
    assert.deepEqual(low.body.message.android, { notification: { body: 'test body' }, priority: 'normal' });
    assert.deepEqual(high.body.message.apns, fcmOptions.apns);
    assert.equal(high.body.message.token, 'spqr');
    // The output does not share objects with the config (a later mutation cannot leak back).
    assert.notEqual(high.body.message.apns, fcmOptions.apns);
  });

  it('adds android.priority when fcm_options has no android block', () => {
    const result = build(notification({ prio: 'low' }), {});
    assert.ok(result.kind === 'message');
    assert.deepEqual(result.body.message.android, { priority: 'normal' });
  });
});
