/** UnifiedPush end to end (REFERENCE §7) against a real local endpoint. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeEndpoint, startFakeEndpoint } from '../fakes/fake-unifiedpush-endpoint.ts';
import { badgeOnlyNotification, device, EXAMPLE_EVENT_ID, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

let endpoint: FakeEndpoint;
let gw: TestGateway;
before(async () => {
  endpoint = await startFakeEndpoint();
  gw = await startGateway(`
apps:
  '*':
    type: unifiedpush
    allowed_endpoints: ['127.0.0.1:*']
    response_timeout_ms: 500
dispatch:
  request_budget_ms: 1500
  retry: { max_attempts: 2, initial_delay_ms: 5, max_delay_ms: 10 }
`);
});
after(async () => {
  await gw.close();
  await endpoint.close();
});

let n = 0;
const up = (path: string) => device('im.fluffychat.app', `${endpoint.origin}${path}`);
const event = () => `$up-${++n}`;

describe('UnifiedPush', () => {
  it('POSTs the notification without devices to the pushkey URL', async () => {
    endpoint.received.length = 0;
    const res = await gw.notify(exampleNotification([up('/ok/topic?up=1'), up('/created/other')]));
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    const push = endpoint.received.find((r) => r.path === '/ok/topic?up=1');
    assert.ok(push, 'the endpoint was called with its own path and query');
    assert.match(String(push.headers['content-type']), /^application\/json/);
    const body = JSON.parse(push.body);
    assert.equal(body.notification.event_id, EXAMPLE_EVENT_ID);
    assert.equal(body.notification.sender_display_name, 'Major Tom');
    assert.deepEqual(body.notification.counts, { unread: 2, missed_calls: 1 });
    assert.equal(body.notification.devices, undefined, "other devices' pushkeys are not sent");
    assert.ok(!push.body.includes(endpoint.origin), 'no pushkey leaks into the body');
    assert.equal(push.body, JSON.stringify(body), 'compact JSON');
  });

  it('sends badge-only updates too', async () => {
    endpoint.received.length = 0;
    const res = await gw.notify(badgeOnlyNotification([up('/ok/badge')], 0));
    assert.equal(res.status, 200);
    const body = JSON.parse(endpoint.received[0]!.body);
    assert.deepEqual(body.notification.counts, { unread: 0 });
    assert.equal(body.notification.event_id, undefined);
  });

  it('keeps the body within 4096 bytes by cutting long text, keeping the ids', async () => {
    endpoint.received.length = 0;
    const long = exampleNotification([up('/ok/long')], {
      event_id: event(),
      content: { msgtype: 'm.text', body: '🚀'.repeat(20000) },
    });
    assert.equal((await gw.notify(long)).status, 200);
    const push = endpoint.received[0]!;
    assert.ok(Buffer.byteLength(push.body) <= 4096, `body is ${Buffer.byteLength(push.body)} bytes`);
    const body = JSON.parse(push.body);
    assert.equal(body.notification.event_id, long.notification.event_id);
    assert.match(body.notification.content.body, /^(🚀)+…$/u);
  });

  it('sends an event whose content cannot be cut to fit without that content, instead of failing', async () => {
    endpoint.received.length = 0;
    const content = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, i]));
    const res = await gw.notify(exampleNotification([up('/ok/numbers')], { event_id: event(), content }));
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    const body = JSON.parse(endpoint.received[0]!.body);
    assert.equal(body.notification.content, undefined);
    assert.equal(body.notification.sender_display_name, 'Major Tom');
  });

  it('rejects the pushkey on 404 and 410', async () => {
    const res = await gw.notify(
      exampleNotification([up('/gone/1'), up('/missing/1'), up('/ok/2')], { event_id: event() }),
    );
    assert.deepEqual(res.json, { rejected: [`${endpoint.origin}/gone/1`, `${endpoint.origin}/missing/1`] });
  });

  for (const path of ['/busy/1', '/fail/1', '/hang/1']) {
    it(`answers 502 (temporary) for ${path}, after retrying`, async () => {
      endpoint.received.length = 0;
      const res = await gw.notify(exampleNotification([up(path)], { event_id: event() }));
      assert.equal(res.status, 502);
      assert.equal(endpoint.received.length, 2);
    });
  }

  it('answers 502 without retrying for 413 (permanent)', async () => {
    endpoint.received.length = 0;
    const res = await gw.notify(exampleNotification([up('/toolarge/1')], { event_id: event() }));
    assert.equal(res.status, 502);
    assert.equal(endpoint.received.length, 1);
  });

  it('rejects a pushkey that is not a URL', async () => {
    const res = await gw.notify(exampleNotification([device('x', 'not a url')], { event_id: event() }));
    assert.deepEqual(res.json, { rejected: ['not a url'] });
  });

  it('answers 502 when the endpoint refuses connections', async () => {
    const closed = await startFakeEndpoint();
    await closed.close();
    const res = await gw.notify(
      exampleNotification([device('x', `${closed.origin}/ok`)], { event_id: event() }),
    );
    assert.equal(res.status, 502);
  });
});

describe('UnifiedPush and the top-level proxy', () => {
  it('warns at start that the proxy is not used for client-chosen endpoints', async () => {
    const withProxy = await startGateway({
      proxy: 'http://proxy.internal:3128',
      apps: { '*': { type: 'unifiedpush' } },
    });
    await withProxy.close();
    assert.ok(
      withProxy.logs.some(
        (l) => l.level === 40 && String(l.msg).startsWith('proxy is not used for unifiedpush'),
      ),
    );
  });
});
