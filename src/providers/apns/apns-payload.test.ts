/** Table tests of the APNs payload builder against REFERENCE §4 (Sygnal 0.17's exact payloads). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type JsonObject, parseNotifyBody } from '../../matrix/notification.ts';
import { buildApnsPayload, locAlert, type PayloadOptions, soundName } from './apns-payload.ts';

const ROOM_ID = '!slw48wfj34rtnrf:example.com';
const EVENT_ID = '$qTOWWTEL48yPm3uT-gdNhFcoHxfKbZuqRVnnWWSkGBs';

function notification(fields: Record<string, unknown>) {
  return parseNotifyBody({ notification: { devices: [{ app_id: 'a', pushkey: 'spqr' }], ...fields } });
}

const MESSAGE = {
  event_id: EVENT_ID,
  room_id: ROOM_ID,
  type: 'm.room.message',
  sender: '@exampleuser:matrix.org',
  sender_display_name: 'Major Tom',
  room_name: 'Mission Control',
  room_alias: '#exampleroom:matrix.org',
  content: { msgtype: 'm.text', body: "I'm floating in a most peculiar way." },
  counts: { unread: 2, missed_calls: 1 },
};

const defaults: PayloadOptions = { sendBadgeCounts: true, defaultPayload: {}, sound: undefined };

function build(fields: Record<string, unknown>, options: Partial<PayloadOptions> = {}) {
  return buildApnsPayload(notification(fields), { ...defaults, ...options });
}

describe('apns payload: the loc-key table', () => {
  const rows: [string, Record<string, unknown>, string | null, string[] | null][] = [
    [
      'text in a named room',
      {},
      'MSG_FROM_USER_IN_ROOM_WITH_CONTENT',
      ['Major Tom', 'Mission Control', "I'm floating in a most peculiar way."],
    ],
    [
      'image in a named room',
      { content: { msgtype: 'm.image', body: 'pic.png' } },
      'IMAGE_FROM_USER_IN_ROOM',
      ['Major Tom', 'pic.png', 'Mission Control'],
    ],
    [
      'emote in a named room',
      { content: { msgtype: 'm.emote', body: 'waves' } },
      'ACTION_FROM_USER_IN_ROOM',
      ['Mission Control', 'Major Tom', 'waves'],
    ],
    [
      'notice (other msgtype) in a named room',
      { content: { msgtype: 'm.notice', body: 'hi' } },
      'MSG_FROM_USER_IN_ROOM_WITH_CONTENT',
      ['Major Tom', 'Mission Control', 'hi'],
    ],
    [
      'encrypted, no content, named room',
      { type: 'm.room.encrypted', content: { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x' } },
      'MSG_FROM_USER_IN_ROOM',
      ['Major Tom', 'Mission Control'],
    ],
    [
      'content omitted, named room',
      { content: undefined },
      'MSG_FROM_USER_IN_ROOM',
      ['Major Tom', 'Mission Control'],
    ],
    [
      'body without msgtype',
      { content: { body: 'x' } },
      'MSG_FROM_USER_IN_ROOM',
      ['Major Tom', 'Mission Control'],
    ],
    [
      'empty body',
      { content: { msgtype: 'm.text', body: '' } },
      'MSG_FROM_USER_IN_ROOM',
      ['Major Tom', 'Mission Control'],
    ],
    [
      'alias only',
      { room_name: undefined },
      'MSG_FROM_USER_IN_ROOM_WITH_CONTENT',
      ['Major Tom', '#exampleroom:matrix.org', "I'm floating in a most peculiar way."],
    ],
    [
      'text, no room name or alias',
      { room_name: undefined, room_alias: undefined },
      'MSG_FROM_USER_WITH_CONTENT',
      ['Major Tom', "I'm floating in a most peculiar way."],
    ],
    [
      'image, no room',
      { room_name: undefined, room_alias: undefined, content: { msgtype: 'm.image', body: 'p' } },
      'IMAGE_FROM_USER',
      ['Major Tom', 'p'],
    ],
    [
      'emote, no room',
      { room_name: undefined, room_alias: undefined, content: { msgtype: 'm.emote', body: 'w' } },
      'ACTION_FROM_USER',
      ['Major Tom', 'w'],
    ],
    [
      'encrypted, no room',
      { type: 'm.room.encrypted', room_name: undefined, room_alias: undefined, content: {} },
      'MSG_FROM_USER',
      ['Major Tom'],
    ],
    [
      'video call',
      { type: 'm.call.invite', content: { offer: { sdp: 'v=0\r\nm=audio 9\r\nm=video 9' } } },
      'VIDEO_CALL_FROM_USER',
      ['Major Tom'],
    ],
    [
      'voice call',
      { type: 'm.call.invite', content: { offer: { sdp: 'v=0\r\nm=audio 9' } } },
      'VOICE_CALL_FROM_USER',
      ['Major Tom'],
    ],
    ['call without an offer', { type: 'm.call.invite', content: {} }, 'VOICE_CALL_FROM_USER', ['Major Tom']],
    [
      'invite to a named room',
      {
        type: 'm.room.member',
        user_is_target: true,
        membership: 'invite',
        content: { membership: 'invite' },
      },
      'USER_INVITE_TO_NAMED_ROOM',
      ['Major Tom', 'Mission Control'],
    ],
    [
      'invite to a room with an alias only',
      { type: 'm.room.member', user_is_target: true, membership: 'invite', room_name: undefined },
      'USER_INVITE_TO_NAMED_ROOM',
      ['Major Tom', '#exampleroom:matrix.org'],
    ],
    [
      'invite to an unnamed room',
      {
        type: 'm.room.member',
        user_is_target: true,
        membership: 'invite',
        room_name: undefined,
        room_alias: undefined,
      },
      'USER_INVITE_TO_CHAT',
      ['Major Tom'],
    ],
    [
      'invite of someone else',
      { type: 'm.room.member', user_is_target: false, membership: 'invite' },
      null,
      null,
    ],
    ['join', { type: 'm.room.member', user_is_target: true, membership: 'join' }, null, null],
    ['any other type', { type: 'org.example.custom' }, 'MSG_FROM_USER', ['Major Tom']],
    [
      'display name missing: sender',
      { sender_display_name: undefined, type: 'm.sticker' },
      'MSG_FROM_USER',
      ['@exampleuser:matrix.org'],
    ],
    [
      'no sender at all: one space',
      { sender_display_name: undefined, sender: '', type: 'm.sticker' },
      'MSG_FROM_USER',
      [' '],
    ],
  ];
  for (const [name, overrides, locKey, locArgs] of rows) {
    it(name, () => {
      const fields = { ...MESSAGE, ...overrides };
      for (const [k, v] of Object.entries(overrides))
        if (v === undefined) delete (fields as Record<string, unknown>)[k];
      const alert = locAlert(notification(fields));
      assert.deepEqual(alert, locKey === null ? null : { locKey, locArgs });
    });
  }

  it('cuts the sender and the room to 1024 characters (code points, not UTF-16 units)', () => {
    const name = '😀'.repeat(1500);
    const alert = locAlert(
      notification({ ...MESSAGE, sender_display_name: name, room_name: `R${'é'.repeat(2000)}` }),
    );
    assert.equal([...alert!.locArgs[0]!].length, 1024);
    assert.equal(alert!.locArgs[0], '😀'.repeat(1024));
    assert.equal([...alert!.locArgs[1]!].length, 1024);
    // The body is not cut here; only the 4096-byte truncation may shorten it.
    assert.equal(alert!.locArgs[2], MESSAGE.content.body);
  });
});

describe('apns payload: full, badge-only and event_id_only', () => {
  it('full: the reference body, keys in order aps, room_id, event_id', () => {
    assert.equal(
      JSON.stringify(build(MESSAGE)),
      '{"aps":{"alert":{"loc-key":"MSG_FROM_USER_IN_ROOM_WITH_CONTENT","loc-args":["Major Tom","Mission Control",' +
        '"I\'m floating in a most peculiar way."]},"badge":3},"room_id":"!slw48wfj34rtnrf:example.com",' +
        '"event_id":"$qTOWWTEL48yPm3uT-gdNhFcoHxfKbZuqRVnnWWSkGBs"}',
    );
  });

  it('full: badge = unread + missed_calls, 0 sent; omitted counts are 0', () => {
    const cases: [unknown, number][] = [
      [{ unread: 2, missed_calls: 1 }, 3],
      [{ unread: 0 }, 0],
      [{ missed_calls: 4 }, 4],
      [{}, 0],
      [undefined, 0],
    ];
    for (const [counts, badge] of cases) {
      const payload = build({ ...MESSAGE, counts });
      assert.equal((payload!.aps as JsonObject).badge, badge, JSON.stringify(counts));
    }
  });

  it('full: no badge when send_badge_counts is off', () => {
    const payload = build(MESSAGE, { sendBadgeCounts: false });
    assert.deepEqual(Object.keys(payload!.aps as JsonObject), ['alert']);
  });

  it('full: default_payload is copied; loc-key/loc-args overwrite, other alert keys survive', () => {
    const defaultPayload = {
      custom: 'kept',
      aps: {
        'mutable-content': 1,
        alert: { title: 'Element', 'loc-key': 'OLD', 'loc-args': ['old'] },
        badge: 99,
      },
    };
    const payload = build(MESSAGE, { defaultPayload });
    assert.equal(
      JSON.stringify(payload),
      '{"custom":"kept","aps":{"mutable-content":1,"alert":{"title":"Element","loc-key":"MSG_FROM_USER_IN_ROOM_WITH_CONTENT",' +
        '"loc-args":["Major Tom","Mission Control","I\'m floating in a most peculiar way."]},"badge":3},' +
        `"room_id":"${ROOM_ID}","event_id":"${EVENT_ID}"}`,
    );
    // The pusher's data is never modified.
    assert.deepEqual(defaultPayload.aps.alert['loc-args'], ['old']);
  });

  it('full: a string alert or a non-object aps in default_payload is replaced, not a crash', () => {
    assert.deepEqual((build(MESSAGE, { defaultPayload: { aps: { alert: 'x' } } })!.aps as JsonObject).alert, {
      'loc-key': 'MSG_FROM_USER_IN_ROOM_WITH_CONTENT',
      'loc-args': ['Major Tom', 'Mission Control', "I'm floating in a most peculiar way."],
    });
    assert.equal(typeof build(MESSAGE, { defaultPayload: { aps: 'x' } })!.aps, 'object');
  });

  it('full: no alert means no room_id/event_id, and default_payload still applies', () => {
    const payload = build(
      { ...MESSAGE, type: 'm.room.member', membership: 'join', user_is_target: true },
      { defaultPayload: { aps: { 'mutable-content': 1 } } },
    );
    assert.equal(JSON.stringify(payload), '{"aps":{"mutable-content":1,"badge":3}}');
  });

  it('full: nothing to send without loc-key and without badge', () => {
    assert.equal(
      build({ ...MESSAGE, type: 'm.room.member', membership: 'leave' }, { sendBadgeCounts: false }),
      null,
    );
  });

  it('full: tweaks.sound goes into aps.sound (after the badge), only with an alert', () => {
    assert.equal(
      JSON.stringify(build(MESSAGE, { sound: 'default' })!.aps as JsonObject),
      '{"alert":{"loc-key":"MSG_FROM_USER_IN_ROOM_WITH_CONTENT","loc-args":["Major Tom","Mission Control",' +
        '"I\'m floating in a most peculiar way."]},"badge":3,"sound":"default"}',
    );
    assert.equal(
      JSON.stringify(build({ counts: { unread: 1 } }, { sound: 'default' })),
      '{"aps":{"badge":1}}',
    );
  });

  it('badge-only: {"aps":{"badge":N}}, default_payload ignored; nothing when badges are off', () => {
    const badgeOnly = { type: null, sender: '', id: '', counts: { unread: 5, missed_calls: 2 } };
    assert.equal(
      JSON.stringify(build(badgeOnly, { defaultPayload: { aps: { sound: 'x' }, a: 1 } })),
      '{"aps":{"badge":7}}',
    );
    assert.equal(JSON.stringify(build({ counts: { unread: 0 } })), '{"aps":{"badge":0}}');
    assert.equal(build(badgeOnly, { sendBadgeCounts: false }), null);
  });

  it('event_id_only: copy of default_payload + room_id, event_id, unread_count, missed_calls', () => {
    const n = { event_id: EVENT_ID, room_id: ROOM_ID, counts: { unread: 2, missed_calls: 1 } };
    assert.equal(
      JSON.stringify(
        build(n, { defaultPayload: { aps: { 'mutable-content': 1, alert: { 'loc-key': 'X' } } } }),
      ),
      `{"aps":{"mutable-content":1,"alert":{"loc-key":"X"}},"room_id":"${ROOM_ID}","event_id":"${EVENT_ID}",` +
        '"unread_count":2,"missed_calls":1}',
    );
    assert.equal(
      JSON.stringify(build(n)),
      `{"room_id":"${ROOM_ID}","event_id":"${EVENT_ID}","unread_count":2,"missed_calls":1}`,
    );
  });

  it('event_id_only: counts only when present, none when badges are off, no aps added', () => {
    const n = { event_id: EVENT_ID, room_id: ROOM_ID, counts: { unread: 0 } };
    assert.equal(
      JSON.stringify(build(n)),
      `{"room_id":"${ROOM_ID}","event_id":"${EVENT_ID}","unread_count":0}`,
    );
    assert.equal(
      JSON.stringify(build(n, { sendBadgeCounts: false, sound: 'x' })),
      `{"room_id":"${ROOM_ID}","event_id":"${EVENT_ID}"}`,
    );
  });
});

describe('apns payload: which tweaks.sound becomes aps.sound', () => {
  const rows: [string, unknown, string | undefined][] = [
    ['"default"', 'default', 'default'],
    ['a file name', 'bing.caf', 'bing.caf'],
    ['exactly 256 bytes', 'a'.repeat(256), 'a'.repeat(256)],
    ['256 bytes of 2-byte characters', 'é'.repeat(128), 'é'.repeat(128)],
    ['257 bytes', 'a'.repeat(257), undefined],
    ['129 two-byte characters (258 bytes, 129 characters)', 'é'.repeat(129), undefined],
    ['5 KB', 'x'.repeat(5000), undefined],
    ['absent', undefined, undefined],
    ['a number', 1, undefined],
    ['true', true, undefined],
    ['an object', { name: 'bing' }, undefined],
    ['an array', ['bing'], undefined],
    ['null', null, undefined],
  ];
  for (const [name, tweak, expected] of rows) {
    it(`${name} → ${expected === undefined ? 'no aps.sound' : 'aps.sound'}`, () => {
      assert.equal(soundName(tweak), expected);
    });
  }
});
