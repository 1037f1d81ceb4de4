import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Notification } from '../../matrix/notification.ts';
import { buildUnifiedPushBody, UNIFIEDPUSH_MAX_BYTES } from './unifiedpush-message.ts';

const base: Notification = {
  event_id: '$e',
  room_id: '!r:example.org',
  type: 'm.room.message',
  sender: '@a:example.org',
  prio: 'high',
  counts: { unread: 1 },
  devices: [{ app_id: 'a', pushkey: 'https://secret.example/up', pushkey_ts: 0, data: {}, tweaks: {} }],
};

const parse = (n: Notification) => JSON.parse(buildUnifiedPushBody(n)!).notification;

describe('buildUnifiedPushBody', () => {
  it('sends the notification without devices', () => {
    assert.deepEqual(parse(base), {
      event_id: '$e',
      room_id: '!r:example.org',
      type: 'm.room.message',
      sender: '@a:example.org',
      prio: 'high',
      counts: { unread: 1 },
    });
  });

  it('cuts long text to fit', () => {
    const body = buildUnifiedPushBody({ ...base, content: { body: 'é'.repeat(5000) } })!;
    assert.ok(Buffer.byteLength(body) <= UNIFIEDPUSH_MAX_BYTES);
    assert.match(JSON.parse(body).notification.content.body, /…$/);
  });

  it('leaves out content that cannot be cut to fit (numbers, keys)', () => {
    const content = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i]));
    const sent = parse({ ...base, content });
    assert.equal(sent.content, undefined);
    assert.equal(sent.event_id, '$e');
    assert.equal(sent.sender, '@a:example.org');
  });

  it('keeps only identifiers and counts when even the other fields do not fit', () => {
    const sent = parse({ ...base, sender: '@x:'.padEnd(5000, 'x'), content: { body: 'hi' } });
    assert.deepEqual(sent, {
      event_id: '$e',
      room_id: '!r:example.org',
      prio: 'high',
      counts: { unread: 1 },
    });
  });

  it('gives up only when the identifiers themselves are too long', () => {
    assert.equal(buildUnifiedPushBody({ ...base, event_id: `$${'e'.repeat(5000)}` }), null);
  });
});
