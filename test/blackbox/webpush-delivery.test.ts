/**
 * Web Push end to end (REFERENCE §6): a browser-style subscription registered as Sygnal documents
 * it receives a push the fake push service verifies (VAPID) and decrypts (RFC 8291), over HTTP/2
 * and over HTTP/1.1; the plaintext is Sygnal's JSON; TTL, Urgency, Topic and events_only behave.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  browserPusherDevice,
  type FakePushService,
  startFakePushService,
  writeVapidKeyFile,
} from '../fakes/fake-push-service.ts';
import {
  badgeOnlyNotification,
  EXAMPLE_EVENT_ID,
  EXAMPLE_ROOM_ID,
  exampleNotification,
} from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const APP = 'io.element.web';
const vapid = writeVapidKeyFile();
let n = 0;
const eventId = () => `$webpush-delivery-${++n}`;

function config(extra: Record<string, unknown> = {}) {
  return {
    apps: {
      [APP]: {
        type: 'webpush',
        vapid_private_key: vapid.path,
        vapid_contact_email: 'ops@example.org',
        allowed_endpoints: ['localhost:*', '127.0.0.1:*'],
        ...extra,
      },
    },
  };
}

for (const protocol of ['h2', 'http1'] as const) {
  describe(`Web Push delivery over ${protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1'}`, () => {
    let fake: FakePushService;
    let gw: TestGateway;
    before(async () => {
      fake = await startFakePushService({ protocol });
      gw = await startGateway(config());
    });
    after(async () => {
      await gw.close();
      await fake.close();
    });

    it('a browser subscription registered as a Matrix pusher receives a decryptable push', async () => {
      const subscription = fake.subscribe();
      const res = await gw.notify(exampleNotification([browserPusherDevice(APP, subscription)]));
      assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
      assert.deepEqual(fake.refused, []);
      const push = fake.received.at(-1)!;
      assert.equal(push.path, subscription.path);
      assert.equal(push.httpVersion, protocol === 'h2' ? '2.0' : '1.1');
      // What the service worker gets: Sygnal's payload, formatted_body and pusher secrets excluded.
      assert.deepEqual(push.json, {
        room_id: EXAMPLE_ROOM_ID,
        room_name: 'Mission Control',
        room_alias: '#exampleroom:matrix.org',
        event_id: EXAMPLE_EVENT_ID,
        sender: '@exampleuser:matrix.org',
        sender_display_name: 'Major Tom',
        type: 'm.room.message',
        unread: 2,
        missed_calls: 1,
        content: { msgtype: 'm.text', body: "I'm floating in a most peculiar way." },
      });
      assert.equal(push.vapid.publicKey, vapid.publicKey);
      assert.equal(push.vapid.claims.aud, `https://localhost:${fake.port}`);
      assert.equal(push.vapid.claims.sub, 'mailto:ops@example.org');
      assert.equal(push.headers['content-encoding'], 'aes128gcm');
      assert.equal(push.headers['content-type'], 'application/octet-stream');
      assert.equal(push.headers.ttl, '900');
      assert.equal(push.headers.urgency, 'normal');
      assert.equal(push.headers.topic, undefined);
    });

    it('keeps one connection per origin across pushes', async () => {
      const subscription = fake.subscribe();
      const before = fake.connections();
      for (let i = 0; i < 3; i++) {
        const res = await gw.notify(
          exampleNotification([browserPusherDevice(APP, subscription)], { event_id: eventId() }),
        );
        assert.equal(res.status, 200);
      }
      assert.ok(fake.connections() - before <= 1, `${fake.connections() - before} new connections`);
    });
  });
}

describe('Web Push request headers and pusher options', () => {
  let fake: FakePushService;
  let gw: TestGateway;
  before(async () => {
    fake = await startFakePushService();
    gw = await startGateway(config({ ttl: 60 }));
  });
  after(async () => {
    await gw.close();
    await fake.close();
  });

  async function pushOne(body: unknown, subscription = fake.subscribe()) {
    const before = fake.received.length;
    const res = await gw.notify(body);
    return { res, push: fake.received.length > before ? fake.received.at(-1)! : undefined, subscription };
  }

  it('sends the configured TTL and Urgency: low for low-priority events', async () => {
    const subscription = fake.subscribe();
    const { push } = await pushOne(
      exampleNotification([browserPusherDevice(APP, subscription)], { event_id: eventId(), prio: 'low' }),
      subscription,
    );
    assert.equal(push?.headers.ttl, '60');
    assert.equal(push?.headers.urgency, 'low');
  });

  it('sets a Topic derived from the room for only_last_per_room pushers', async () => {
    const subscription = fake.subscribe();
    const device = browserPusherDevice(APP, subscription, { only_last_per_room: true });
    const one = await pushOne(exampleNotification([device], { event_id: eventId() }), subscription);
    const same = await pushOne(exampleNotification([device], { event_id: eventId() }), subscription);
    const other = await pushOne(
      exampleNotification([device], { event_id: eventId(), room_id: '!other:example.org' }),
      subscription,
    );
    const topic = one.push?.headers.topic as string;
    assert.match(topic, /^[A-Za-z0-9_-]{1,32}$/, 'RFC 8030 §5.4: ≤ 32 URL-safe base64 characters');
    assert.equal(same.push?.headers.topic, topic);
    assert.notEqual(other.push?.headers.topic, topic);
    assert.ok(!topic.includes(EXAMPLE_ROOM_ID), 'the room ID itself is not disclosed');
  });

  it('sends no Topic without only_last_per_room', async () => {
    const { push } = await pushOne(
      exampleNotification([browserPusherDevice(APP, fake.subscribe(), { only_last_per_room: false })], {
        event_id: eventId(),
      }),
    );
    assert.ok(push);
    assert.equal(push.headers.topic, undefined);
  });

  it('events_only: a badge-only update is dropped (200, not rejected, nothing sent)', async () => {
    const subscription = fake.subscribe();
    const device = browserPusherDevice(APP, subscription, { events_only: true });
    const { res, push } = await pushOne(badgeOnlyNotification([device], 3), subscription);
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(push, undefined);
    const event = await pushOne(exampleNotification([device], { event_id: eventId() }), subscription);
    assert.equal(event.push?.json.event_id, `$webpush-delivery-${n}`);
  });

  it('without events_only a badge-only update is pushed with its count', async () => {
    const { res, push } = await pushOne(
      badgeOnlyNotification([browserPusherDevice(APP, fake.subscribe())], 0),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(push?.json, { unread: 0 });
  });

  it('puts default_payload first and lets the notification fields win', async () => {
    const device = browserPusherDevice(APP, fake.subscribe(), {
      default_payload: { app: 'element', room_name: 'from the pusher', actions: ['reply'] },
    });
    const { push } = await pushOne(exampleNotification([device], { event_id: eventId() }));
    assert.deepEqual(Object.keys(push!.json).slice(0, 3), ['app', 'room_name', 'actions']);
    assert.equal(push!.json.room_name, 'Mission Control');
    assert.deepEqual(push!.json.actions, ['reply']);
  });

  it('cuts a long multi-byte message to fit the 4096-byte push message, with valid UTF-8', async () => {
    const device = browserPusherDevice(APP, fake.subscribe());
    const { res, push } = await pushOne(
      exampleNotification([device], {
        event_id: eventId(),
        room_name: '🛰️'.repeat(600),
        sender_display_name: 'Ground Control to Major Tom '.repeat(40),
        content: {
          msgtype: 'm.text',
          body: 'Ünïcödé 日本語 '.repeat(300),
          formatted_body: '<p>dropped</p>'.repeat(500),
        },
      }),
    );
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.deepEqual(fake.refused, []);
    assert.ok(push!.bodyBytes <= 4096, `${push!.bodyBytes} bytes on the wire`);
    assert.ok(Buffer.byteLength(push!.plaintext) <= 3993);
    assert.equal(push!.json.event_id, `$webpush-delivery-${n}`);
    assert.equal(push!.json.room_id, EXAMPLE_ROOM_ID);
    assert.equal(push!.json.content.formatted_body, undefined);
    assert.ok(!push!.plaintext.includes('\uFFFD'), 'no broken characters');
    // Sygnal's own cut first: the body is at most 1000 characters.
    assert.ok(Array.from(push!.json.content.body as string).length <= 1000);
  });

  it('empty content and a pusher default_payload.content that is not an object: delivered, not a 500', async () => {
    for (const pusherContent of ['from the pusher', 7, null]) {
      const subscription = fake.subscribe();
      const device = browserPusherDevice(APP, subscription, {
        default_payload: { content: pusherContent },
      });
      const { res, push } = await pushOne(
        exampleNotification([device], { event_id: eventId(), content: {} }),
        subscription,
      );
      assert.deepEqual([res.status, res.json], [200, { rejected: [] }], String(pusherContent));
      assert.deepEqual(push?.json.content, pusherContent, 'the pusher’s own value, untouched');
    }
  });

  it('empty content never lets the fitting cut the pusher’s default_payload.content', async () => {
    const appContent = { hint: 'h'.repeat(1500) };
    const device = browserPusherDevice(APP, fake.subscribe(), { default_payload: { content: appContent } });
    const { res, push } = await pushOne(
      exampleNotification([device], {
        event_id: eventId(),
        content: {},
        room_alias: `#${'a'.repeat(2600)}:example.org`,
      }),
    );
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.deepEqual(push?.json.content, appContent);
    assert.ok(Buffer.byteLength(push!.plaintext) <= 3993);
  });

  it('a 4000-character room_alias is not the pusher’s fault: delivered without it, never rejected', async () => {
    const subscription = fake.subscribe();
    const { res, push } = await pushOne(
      exampleNotification([browserPusherDevice(APP, subscription)], {
        event_id: eventId(),
        room_alias: `#${'a'.repeat(4000)}:example.org`,
      }),
      subscription,
    );
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(push?.json.event_id, `$webpush-delivery-${n}`);
    assert.equal(push?.json.room_alias, undefined);
    assert.equal(push?.json.content.body, "I'm floating in a most peculiar way.");
    assert.ok(Buffer.byteLength(push!.plaintext) <= 3993);
  });

  it('an event that cannot fit even stripped is dropped with an error log, never rejected', async () => {
    const subscription = fake.subscribe();
    const before = gw.logs.length;
    const { res, push } = await pushOne(
      exampleNotification([browserPusherDevice(APP, subscription)], {
        event_id: `$${'e'.repeat(4000)}`,
      }),
      subscription,
    );
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(push, undefined);
    const lines = gw.logs.slice(before);
    assert.ok(
      lines.some((l) => l.level === 50 && String(l.msg).includes('does not fit a Web Push message')),
      JSON.stringify(lines),
    );
  });

  it('a default_payload larger than a push message is rejected: no push to it can work', async () => {
    const subscription = fake.subscribe();
    const device = browserPusherDevice(APP, subscription, { default_payload: { big: 'b'.repeat(4000) } });
    const { res, push } = await pushOne(exampleNotification([device], { event_id: eventId() }), subscription);
    assert.deepEqual([res.status, res.json], [200, { rejected: [device.pushkey] }]);
    assert.equal(push, undefined);
  });

  it('drops a Megolm ciphertext over 2000 characters and keeps the session data', async () => {
    const device = browserPusherDevice(APP, fake.subscribe());
    const { push } = await pushOne(
      exampleNotification([device], {
        event_id: eventId(),
        type: 'm.room.encrypted',
        content: { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'A'.repeat(2001), session_id: 'sess' },
      }),
    );
    assert.deepEqual(push!.json.content, { algorithm: 'm.megolm.v1.aes-sha2', session_id: 'sess' });
  });
});
