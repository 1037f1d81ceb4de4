/**
 * Bad and odd input: every malformed shape gets a 400 with a Matrix errcode that names the field,
 * never a 500; every homeserver quirk of REFERENCE §1 is accepted and normalised.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createFakeProviderModule } from '../fakes/fake-provider.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const fake = createFakeProviderModule();
let gw: TestGateway;
before(async () => {
  gw = await startGateway('apps: { com.example.fake: { type: fake } }', { extraProviders: [fake.module] });
});
after(() => gw.close());
beforeEach(() => {
  fake.calls.length = 0;
});

const good = () => device('com.example.fake', 'accept-input');

describe('400 M_BAD_JSON names what is wrong', () => {
  const cases: [string, unknown, RegExp][] = [
    ['a JSON array body', [], /body must be a JSON object/],
    ['a JSON string body', '"hello"', /body must be a JSON object/],
    ['no notification', {}, /"notification" must be an object/],
    ['notification is null', { notification: null }, /"notification" must be an object/],
    ['notification is a list', { notification: [] }, /"notification" must be an object/],
    ['no devices', { notification: {} }, /notification\.devices must be a list/],
    ['devices is an object', { notification: { devices: {} } }, /notification\.devices must be a list/],
    ['devices is empty', { notification: { devices: [] } }, /notification\.devices must not be empty/],
    ['a device is a number', { notification: { devices: [5] } }, /devices\[0\] must be an object/],
    ['a device without app_id', { notification: { devices: [{ pushkey: 'a' }] } }, /devices\[0\]\.app_id/],
    [
      'app_id is a number',
      { notification: { devices: [{ app_id: 1, pushkey: 'a' }] } },
      /devices\[0\]\.app_id/,
    ],
    ['a device without pushkey', { notification: { devices: [{ app_id: 'a' }] } }, /devices\[0\]\.pushkey/],
    [
      'pushkey_ts is a string',
      { notification: { devices: [{ ...good(), pushkey_ts: 'now' }] } },
      /pushkey_ts/,
    ],
    [
      'data is a string',
      { notification: { devices: [{ ...good(), data: 'x' }] } },
      /devices\[0\]\.data must be an object/,
    ],
    [
      'tweaks is a number',
      { notification: { devices: [{ ...good(), tweaks: 5 }] } },
      /tweaks must be an object/,
    ],
    [
      'event_id is a number',
      exampleNotification([good()], { event_id: 5 }),
      /notification\.event_id must be a string/,
    ],
    [
      'room_name is an object',
      exampleNotification([good()], { room_name: {} }),
      /notification\.room_name must be a string/,
    ],
    ['prio is not high/low', exampleNotification([good()], { prio: 'urgent' }), /notification\.prio/],
    [
      'content is a string',
      exampleNotification([good()], { content: 'hi' }),
      /notification\.content must be an object/,
    ],
    [
      'counts is a list',
      exampleNotification([good()], { counts: [1] }),
      /notification\.counts must be an object/,
    ],
    ['unread is a string', exampleNotification([good()], { counts: { unread: '2' } }), /counts\.unread/],
    ['unread is negative', exampleNotification([good()], { counts: { unread: -1 } }), /counts\.unread/],
    [
      'missed_calls is fractional',
      exampleNotification([good()], { counts: { missed_calls: 1.5 } }),
      /counts\.missed_calls/,
    ],
    [
      'user_is_target is a string',
      exampleNotification([good()], { user_is_target: 'yes' }),
      /user_is_target/,
    ],
  ];
  for (const [name, body, message] of cases) {
    it(`for ${name}`, async () => {
      const res = await gw.notify(typeof body === 'string' ? body : JSON.stringify(body));
      assert.equal(res.status, 400);
      assert.equal(res.json.errcode, 'M_BAD_JSON');
      assert.match(res.json.error, message);
      assert.equal(fake.calls.length, 0);
    });
  }
});

describe('400 M_BAD_JSON for absurd nesting, never a 500', () => {
  // Built as text: the test's own JSON.stringify would overflow on 5,000 levels.
  const deep = `${'{"a":'.repeat(5000)}{}${'}'.repeat(5000)}`;
  const devices = JSON.stringify([good()]);
  const bodies: [string, string][] = [
    ['content', `{"notification":{"event_id":"$deep","content":${deep},"devices":${devices}}}`],
    [
      'data.default_payload',
      `{"notification":{"event_id":"$deep2","devices":[{"app_id":"com.example.fake","pushkey":"accept-input","data":{"default_payload":${deep}}}]}}`,
    ],
  ];
  for (const [name, body] of bodies) {
    it(`in ${name}`, async () => {
      const res = await gw.notify(body);
      assert.equal(res.status, 400);
      assert.equal(res.json.errcode, 'M_BAD_JSON');
      assert.match(res.json.error, /deeper than 64 levels/);
      assert.equal(fake.calls.length, 0);
    });
  }

  it('accepts ordinary nesting', async () => {
    let nested: unknown = { body: 'x' };
    for (let i = 0; i < 40; i++) nested = { a: nested };
    const res = await gw.notify(exampleNotification([good()], { event_id: '$nested', content: nested }));
    assert.equal(res.status, 200);
  });
});

describe('400 M_NOT_JSON, 413 M_TOO_LARGE', () => {
  for (const body of ['{bad', '', '   ', 'NaN', '{"notification": Infinity}', "{'a': 1}"]) {
    it(`M_NOT_JSON for ${JSON.stringify(body)}`, async () => {
      const res = await gw.notify(body);
      assert.equal(res.status, 400);
      assert.equal(res.json.errcode, 'M_NOT_JSON');
    });
  }

  it('M_NOT_JSON for a body that is not valid UTF-8', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"notification": {"room_name": "'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}}'),
    ]);
    const res = await gw.request('/_matrix/push/v1/notify', { method: 'POST', body: bytes });
    assert.equal(res.status, 400);
    assert.equal(res.json.errcode, 'M_NOT_JSON');
  });

  it('M_NOT_JSON for a POST without a body', async () => {
    const res = await gw.request('/_matrix/push/v1/notify', { method: 'POST' });
    assert.equal(res.status, 400);
    assert.equal(res.json.errcode, 'M_NOT_JSON');
  });

  it('413 M_TOO_LARGE over 512 KiB, as JSON', async () => {
    const huge = exampleNotification([good()], { content: { body: 'x'.repeat(600 * 1024) } });
    const res = await gw.notify(huge);
    assert.equal(res.status, 413);
    assert.equal(res.json.errcode, 'M_TOO_LARGE');
    assert.equal(fake.calls.length, 0);
  });

  it('accepts a body of about 64 KB (large messages are real)', async () => {
    const big = exampleNotification([good()], {
      event_id: '$big',
      content: { msgtype: 'm.text', body: 'é'.repeat(32 * 1024) },
    });
    const res = await gw.notify(big);
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
  });
});

describe('unknown paths and methods: Matrix M_UNRECOGNIZED', () => {
  it('404 for an unknown path', async () => {
    const res = await gw.request('/_matrix/push/v2/notify', { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    assert.equal(res.json.errcode, 'M_UNRECOGNIZED');
  });

  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    it(`405 for ${method} on the notify path`, async () => {
      const res = await gw.request('/_matrix/push/v1/notify', { method });
      assert.equal(res.status, 405);
      assert.equal(res.json.errcode, 'M_UNRECOGNIZED');
    });
  }

  it('GET on the notify path answers the UnifiedPush discovery document', async () => {
    const res = await gw.request('/_matrix/push/v1/notify');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.json, { unifiedpush: { gateway: 'matrix' } });
  });

  it('GET /health answers 200', async () => {
    const res = await gw.request('/health');
    assert.equal(res.status, 200);
  });
});

describe('homeserver quirks are accepted', () => {
  async function sendOne(notification: Record<string, unknown>) {
    const res = await gw.notify({ notification });
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }], JSON.stringify(res.json));
    assert.equal(fake.calls.length, 1);
    return fake.calls[0]!;
  }

  it("Synapse's badge-only update (type null, empty sender and id, unread 0)", async () => {
    const call = await sendOne({ id: '', type: null, sender: '', counts: { unread: 0 }, devices: [good()] });
    assert.equal(call.notification.event_id, undefined);
    assert.equal(call.notification.type, undefined);
    assert.deepEqual(call.notification.counts, { unread: 0 });
  });

  it('Synapse: membership on member events, content omitted, prio low, charset in Content-Type', async () => {
    const res = await gw.request('/_matrix/push/v1/notify', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({
        notification: {
          event_id: '$member',
          room_id: '!r:x',
          type: 'm.room.member',
          membership: 'invite',
          user_is_target: true,
          prio: 'low',
          sender: '@a:x',
          devices: [good()],
        },
      }),
    });
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(fake.calls[0]!.notification.membership, 'invite');
    assert.equal(fake.calls[0]!.notification.prio, 'low');
  });

  it('Dendrite: data null, tweaks.highlight null, no prio', async () => {
    const call = await sendOne({
      event_id: '$dendrite',
      room_id: '!r:x',
      type: 'm.room.message',
      devices: [
        {
          app_id: 'com.example.fake',
          pushkey: 'accept-d',
          pushkey_ts: 1,
          data: null,
          tweaks: { highlight: null },
        },
      ],
    });
    assert.deepEqual(call.device.data, {});
    assert.equal(call.notification.prio, 'high');
  });

  it('Conduit family: no pushkey_ts, data absent, counts absent', async () => {
    const call = await sendOne({
      event_id: '$conduit',
      room_id: '!r:x',
      type: 'm.room.message',
      devices: [{ app_id: 'com.example.fake', pushkey: 'accept-c' }],
    });
    assert.equal(call.device.pushkey_ts, 0);
    assert.deepEqual(call.notification.counts, {});
  });

  it('palpo: tweaks as a list of set_tweak actions, normalised to an object', async () => {
    const call = await sendOne({
      event_id: '$palpo',
      devices: [
        {
          app_id: 'com.example.fake',
          pushkey: 'accept-p',
          tweaks: [{ set_tweak: 'sound', value: 'default' }, { set_tweak: 'highlight' }],
        },
      ],
    });
    assert.deepEqual(call.device.tweaks, { sound: 'default', highlight: true });
  });

  it('Construct: pushkey_ts in milliseconds, url left inside data', async () => {
    const call = await sendOne({
      event_id: '$construct',
      prio: 'high',
      devices: [
        {
          app_id: 'com.example.fake',
          pushkey: 'accept-k',
          pushkey_ts: 1_700_000_000_000,
          data: { url: 'https://x' },
        },
      ],
    });
    assert.equal(call.device.pushkey_ts, 1_700_000_000);
  });

  it('room version 12 room IDs without a server part, any Unicode, unknown fields everywhere', async () => {
    const call = await sendOne({
      event_id: '$v12',
      room_id: '!AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg',
      type: 'm.room.message',
      room_name: 'Zimmer 🚀 ✓ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
      future_field: { nested: [1, 2] },
      counts: { unread: 1, future_count: 3 },
      devices: [
        { ...good(), pushkey: 'accept-u', data: { custom: 1 }, tweaks: { custom: 'x' }, extra: true },
      ],
    });
    assert.equal(call.notification.room_name, 'Zimmer 🚀 ✓ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢');
    assert.equal(call.notification.room_id, '!AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefg');
  });

  it('null optional fields count as absent', async () => {
    const call = await sendOne({
      event_id: '$nulls',
      room_id: null,
      content: null,
      counts: null,
      prio: null,
      user_is_target: null,
      devices: [{ ...good(), pushkey: 'accept-n', pushkey_ts: null, tweaks: null }],
    });
    assert.equal(call.notification.room_id, undefined);
    assert.deepEqual(call.notification.counts, {});
  });
});

describe('logs', () => {
  it('record the client address of each request', async () => {
    await gw.request('/health');
    const line = gw.logs.findLast((l) => l.msg === 'request done' && l.url === '/health');
    assert.equal(line?.remote, '127.0.0.1');
  });

  it('carry a request_id and never a whole pushkey', async () => {
    const secret = 'accept-SECRET-PUSHKEY-0123456789';
    await gw.notify(exampleNotification([device('com.example.fake', secret)], { event_id: '$logs' }));
    const text = JSON.stringify(gw.logs);
    assert.ok(!text.includes(secret), 'a pushkey appeared in the logs');
    const deviceLine = gw.logs.find((l) => l.msg === 'push delivered' && l.event_id === '$logs');
    assert.ok(deviceLine, "the device's outcome was logged with the event_id");
    assert.equal(typeof deviceLine.pushkey_tag, 'string');
    assert.equal(typeof deviceLine.request_id, 'string');
    const requestLine = gw.logs.find(
      (l) => l.msg === 'request done' && l.request_id === deviceLine.request_id,
    );
    assert.ok(requestLine, 'the request line carries the same request_id');
  });
});

describe('behind a reverse proxy', () => {
  it('logs the X-Forwarded-For address when log.access.x_forwarded_for is set (Sygnal key)', async () => {
    const proxied = await startGateway('log: { access: { x_forwarded_for: true } }\napps: {}');
    await proxied.request('/health', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    await proxied.close();
    const line = proxied.logs.find((l) => l.msg === 'request done');
    assert.equal(line?.remote, '203.0.113.9');
  });
});
