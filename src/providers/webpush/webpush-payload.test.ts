import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Notification } from '../../matrix/notification.ts';
import { buildWebPushPayload, buildWebPushPlaintext, defaultPayloadFits } from './webpush-payload.ts';

function notification(extra: Partial<Notification> = {}): Notification {
  return {
    event_id: '$event',
    room_id: '!room:example.org',
    type: 'm.room.message',
    sender: '@tom:example.org',
    sender_display_name: 'Major Tom',
    room_name: 'Mission Control',
    room_alias: '#mc:example.org',
    prio: 'high',
    content: {
      msgtype: 'm.text',
      body: 'hello',
      formatted_body: '<b>hello</b>',
      format: 'org.matrix.custom.html',
    },
    counts: { unread: 2, missed_calls: 1 },
    devices: [],
    ...extra,
  };
}

const bytes = (text: string) => Buffer.byteLength(text);

describe('buildWebPushPayload (Sygnal _build_payload)', () => {
  const cases: [string, Notification, Record<string, unknown>, Record<string, unknown>][] = [
    [
      'the spec example, formatted_body removed',
      notification(),
      {},
      {
        room_id: '!room:example.org',
        room_name: 'Mission Control',
        room_alias: '#mc:example.org',
        event_id: '$event',
        sender: '@tom:example.org',
        sender_display_name: 'Major Tom',
        type: 'm.room.message',
        unread: 2,
        missed_calls: 1,
        content: { msgtype: 'm.text', body: 'hello', format: 'org.matrix.custom.html' },
      },
    ],
    [
      'default_payload first, notification fields win',
      notification({ content: undefined, counts: {} }),
      { app: 'web', room_name: 'overwritten', nested: { a: 1 } },
      {
        app: 'web',
        room_name: 'Mission Control',
        nested: { a: 1 },
        room_id: '!room:example.org',
        room_alias: '#mc:example.org',
        event_id: '$event',
        sender: '@tom:example.org',
        sender_display_name: 'Major Tom',
        type: 'm.room.message',
      },
    ],
    [
      'a badge-only update: empty sender left out, zero unread kept',
      { prio: 'high', sender: '', counts: { unread: 0 }, devices: [] },
      {},
      { unread: 0 },
    ],
    [
      'membership and user_is_target true kept; false left out',
      notification({ membership: 'invite', user_is_target: true, content: undefined, counts: {} }),
      {},
      {
        room_id: '!room:example.org',
        room_name: 'Mission Control',
        room_alias: '#mc:example.org',
        membership: 'invite',
        event_id: '$event',
        sender: '@tom:example.org',
        sender_display_name: 'Major Tom',
        user_is_target: true,
        type: 'm.room.message',
      },
    ],
    [
      'user_is_target false and empty content left out',
      { prio: 'low', event_id: '$e', user_is_target: false, content: {}, counts: {}, devices: [] },
      {},
      { event_id: '$e' },
    ],
  ];
  for (const [name, input, defaults, expected] of cases) {
    it(name, () => {
      const payload = buildWebPushPayload(input, defaults);
      assert.deepEqual(payload, expected);
      assert.deepEqual(Object.keys(payload), Object.keys(expected), 'key order as Sygnal');
    });
  }

  it('cuts body to 1000 characters (code points), ending in "…"', () => {
    const body = '🚀'.repeat(1001);
    const payload = buildWebPushPayload(notification({ content: { body } }), {});
    const cut = (payload.content as { body: string }).body;
    assert.equal(Array.from(cut).length, 1000);
    assert.equal(cut, `${'🚀'.repeat(999)}…`);
    const exact = buildWebPushPayload(notification({ content: { body: '🚀'.repeat(1000) } }), {});
    assert.equal((exact.content as { body: string }).body, '🚀'.repeat(1000));
  });

  it('drops a ciphertext over 2000 characters and keeps one of 2000', () => {
    const long = buildWebPushPayload(
      notification({ content: { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'x'.repeat(2001) } }),
      {},
    );
    assert.deepEqual(long.content, { algorithm: 'm.megolm.v1.aes-sha2' });
    const ok = buildWebPushPayload(notification({ content: { ciphertext: 'x'.repeat(2000) } }), {});
    assert.equal((ok.content as { ciphertext: string }).ciphertext.length, 2000);
  });
});

describe('buildWebPushPlaintext: the 3993-byte limit (RFC 8291 §4)', () => {
  it('leaves a small payload as compact JSON', () => {
    const text = buildWebPushPlaintext(notification(), {});
    assert.deepEqual(JSON.parse(text!), buildWebPushPayload(notification(), {}));
    assert.ok(!text!.includes(': '));
  });

  it('cuts long multi-byte display strings at character boundaries, never identifiers', () => {
    const n = notification({
      room_name: '部屋'.repeat(800),
      sender_display_name: '😀'.repeat(700),
      content: { msgtype: 'm.text', body: 'é'.repeat(900) },
    });
    const text = buildWebPushPlaintext(n, { app: 'x'.repeat(100) })!;
    assert.ok(bytes(text) <= 3993, `${bytes(text)} bytes`);
    assert.ok(bytes(text) > 3900, 'cut no more than needed');
    const json = JSON.parse(text);
    assert.ok(!text.includes('\uFFFD'));
    // Longest first: the room name goes entirely (key and all: Sygnal sends only non-empty fields),
    // then the display name is shortened.
    assert.ok(!('room_name' in json), text.slice(0, 80));
    assert.match(json.sender_display_name, /^(😀)+…$/u);
    assert.equal(json.content.body, 'é'.repeat(900));
    assert.equal(json.room_id, '!room:example.org');
    assert.equal(json.event_id, '$event');
    assert.equal(json.sender, '@tom:example.org');
    assert.equal(json.content.msgtype, 'm.text');
    assert.equal(json.app, 'x'.repeat(100), 'default_payload is the app’s, never cut');
  });

  it('drops a ciphertext that cannot fit rather than cutting it', () => {
    const n = notification({
      room_name: 'r',
      content: { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'c'.repeat(2000), session_id: 's' },
    });
    const text = buildWebPushPlaintext(n, { filler: 'f'.repeat(2500) })!;
    const json = JSON.parse(text);
    assert.ok(bytes(text) <= 3993);
    assert.equal(json.content.ciphertext, undefined);
    assert.equal(json.content.session_id, 's');
  });

  it('returns null when the default_payload alone is too large, which rejects the pusher', () => {
    const big = { big: 'b'.repeat(4000) };
    assert.equal(buildWebPushPlaintext(notification(), big), null);
    assert.equal(defaultPayloadFits(big), false);
    assert.equal(defaultPayloadFits({ app: 'x'.repeat(3900) }), true);
  });

  // Empty event content: the pusher's default_payload.content, whatever it is, is sent untouched.
  const pusherContents: [string, unknown][] = [
    ['a string', 'x'],
    ['a number', 7],
    ['null', null],
    ['an object', { hint: 'h'.repeat(1500) }],
  ];
  for (const [name, pusherContent] of pusherContents) {
    it(`empty content and default_payload.content ${name}: kept as the app set it`, () => {
      // A long room_alias forces the fallbacks; without it, the app's content would be the thing cut.
      const n = notification({ content: {}, room_alias: `#${'a'.repeat(3800)}:x` });
      const text = buildWebPushPlaintext(n, { content: pusherContent })!;
      const json = JSON.parse(text);
      assert.ok(bytes(text) <= 3993);
      assert.deepEqual(json.content, pusherContent);
      assert.equal(json.room_alias, undefined);
      assert.equal(json.event_id, '$event');
    });
  }

  it('an event with long uncuttable fields gives up room_alias, membership, type in turn', () => {
    const long = (c: string) => c.repeat(2000);
    const n = notification({
      room_alias: `#${long('a')}:x`,
      membership: long('m'),
      type: long('t'),
      sender: `@${long('s')}:x`,
    });
    const text = buildWebPushPlaintext(n, { app: 'web' })!;
    const json = JSON.parse(text);
    assert.ok(bytes(text) <= 3993);
    assert.equal(json.room_alias, undefined);
    assert.equal(json.membership, undefined);
    assert.equal(json.type, undefined);
    assert.equal(json.sender, `@${long('s')}:x`, 'given up only once type was not enough');
    assert.equal(json.event_id, '$event');
    assert.equal(json.room_id, '!room:example.org');
    assert.equal(json.unread, 2);
    assert.equal(json.app, 'web');
  });

  it('keeps the content and gives up a 4000-character room_alias', () => {
    const text = buildWebPushPlaintext(notification({ room_alias: `#${'a'.repeat(4000)}:x` }), {})!;
    const json = JSON.parse(text);
    assert.equal(json.room_alias, undefined);
    assert.equal(json.content.body, 'hello');
    assert.equal(json.sender_display_name, 'Major Tom');
  });

  it('a default_payload value comes back for a field given up', () => {
    const text = buildWebPushPlaintext(notification({ room_alias: `#${'a'.repeat(4000)}:x` }), {
      room_alias: '#fallback:x',
    })!;
    assert.equal(JSON.parse(text).room_alias, '#fallback:x');
  });

  it('returns null (the event is dropped) when its identifiers alone cannot fit', () => {
    assert.equal(buildWebPushPlaintext(notification({ event_id: `$${'e'.repeat(4000)}` }), {}), null);
  });

  it('never cuts a default_payload value under a cuttable key the event did not set', () => {
    const n = notification({ room_name: undefined, room_alias: `#${'a'.repeat(1500)}:x` });
    const text = buildWebPushPlaintext(n, { room_name: 'n'.repeat(2600) })!;
    const json = JSON.parse(text);
    assert.equal(json.room_name, 'n'.repeat(2600));
    assert.equal(json.room_alias, undefined);
  });
});
