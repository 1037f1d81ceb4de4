/** The HTTP contract of POST /_matrix/push/v1/notify (REFERENCE §1), with the synthetic provider. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createFakeProviderModule } from '../fakes/fake-provider.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const CONFIG = `
apps:
  com.example.fake:
    type: fake
  'im.glob.*':
    type: fake
  'im.glob.two.*':
    type: fake
  im.glob.two.exact:
    type: fake
dispatch:
  request_budget_ms: 2000
  retry: { max_attempts: 3, initial_delay_ms: 5, max_delay_ms: 20 }
`;

const fake = createFakeProviderModule();
let gw: TestGateway;
before(async () => {
  gw = await startGateway(CONFIG, { extraProviders: [fake.module] });
});
after(() => gw.close());
beforeEach(() => {
  fake.calls.length = 0;
});

let eventCounter = 0;
/** A fresh event_id per test so duplicate suppression does not interfere. */
function notificationFor(...devices: ReturnType<typeof device>[]) {
  eventCounter++;
  return exampleNotification(devices, { event_id: `$contract-${eventCounter}` });
}

describe('200: every device handled', () => {
  it('answers {"rejected": []} as application/json when every device is delivered', async () => {
    const res = await gw.notify(notificationFor(device('com.example.fake', 'accept-1')));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(res.json, { rejected: [] });
    assert.equal(fake.calls.length, 1);
  });

  it('lists the pushkeys a provider rejects, and only those', async () => {
    const res = await gw.notify(
      notificationFor(device('com.example.fake', 'accept-2'), device('com.example.fake', 'reject-2')),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: ['reject-2'] });
  });

  it('rejects a device whose app_id matches no app, without calling any provider', async () => {
    const res = await gw.notify(notificationFor(device('org.unknown.app', 'accept-3')));
    assert.deepEqual([res.status, res.json], [200, { rejected: ['accept-3'] }]);
    assert.equal(fake.calls.length, 0);
  });

  it('routes by glob, lets an exact key win over globs, and rejects an ambiguous match', async () => {
    const res = await gw.notify(
      notificationFor(
        device('im.glob.one', 'accept-glob'),
        device('im.glob.two.exact', 'accept-exact'),
        device('im.glob.two.ambiguous', 'accept-ambiguous'),
      ),
    );
    assert.deepEqual([res.status, res.json], [200, { rejected: ['accept-ambiguous'] }]);
    const routed = Object.fromEntries(fake.calls.map((c) => [c.pushkey, c.appId]));
    assert.deepEqual(routed, { 'accept-glob': 'im.glob.*', 'accept-exact': 'im.glob.two.exact' });
  });

  it('matches globs case-sensitively and across dots', async () => {
    const res = await gw.notify(
      notificationFor(device('IM.GLOB.one', 'accept-case'), device('im.glob.a.b.c', 'accept-dots')),
    );
    assert.deepEqual(res.json, { rejected: ['accept-case'] });
  });

  it('rejects a device whose data.default_payload is not an object', async () => {
    const res = await gw.notify(
      notificationFor(device('com.example.fake', 'accept-dp', { data: { default_payload: 'x' } })),
    );
    assert.deepEqual(res.json, { rejected: ['accept-dp'] });
    assert.equal(fake.calls.length, 0);
  });

  it('delivers after a temporary failure when a retry succeeds, with the same push id on every try', async () => {
    const res = await gw.notify(notificationFor(device('com.example.fake', 'flaky-2-a')));
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.deepEqual(
      fake.calls.map((c) => c.attempt),
      [1, 2, 3],
    );
    assert.equal(new Set(fake.calls.map((c) => c.pushId)).size, 1);
  });
});

describe('502, 503 and 500: the homeserver must retry', () => {
  it('answers 502 M_UNKNOWN after max_attempts temporary failures', async () => {
    const res = await gw.notify(notificationFor(device('com.example.fake', 'temporary-1')));
    assert.equal(res.status, 502);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
    assert.equal(fake.calls.length, 3);
  });

  it('answers 502 at once, without retrying, on a permanent failure', async () => {
    const res = await gw.notify(notificationFor(device('com.example.fake', 'permanent-1')));
    assert.equal(res.status, 502);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
    assert.equal(fake.calls.length, 1);
  });

  it('does not wait for a Retry-After longer than the request budget', async () => {
    const res = await gw.notify(notificationFor(device('com.example.fake', 'retryafter-60000')));
    assert.equal(res.status, 502);
    assert.equal(fake.calls.length, 1);
  });

  it('answers 502 when a provider hangs past the request budget', async () => {
    const res = await gw.notify(notificationFor(device('com.example.fake', 'hang-1')));
    assert.equal(res.status, 502);
  });

  it('answers 500 with a Matrix error body when a provider has a bug', async () => {
    const res = await gw.notify(notificationFor(device('com.example.fake', 'throw-1')));
    assert.equal(res.status, 500);
    assert.equal(res.json.errcode, 'M_UNKNOWN');
  });

  it('still delivers the good devices of a request whose other device fails', async () => {
    const body = notificationFor(
      device('com.example.fake', 'accept-partial'),
      device('com.example.fake', 'temporary-partial'),
    );
    const first = await gw.notify(body);
    assert.equal(first.status, 502);
    assert.equal(fake.calls.filter((c) => c.pushkey === 'accept-partial').length, 1);
    // The homeserver retries: the delivered device is not pushed again, the failed one is.
    fake.calls.length = 0;
    const retry = await gw.notify(body);
    assert.equal(retry.status, 502);
    assert.deepEqual([...new Set(fake.calls.map((c) => c.pushkey))], ['temporary-partial']);
  });
});

describe('concurrency', () => {
  it('dispatches the devices of one request concurrently', async () => {
    fake.concurrency.max = 0;
    const res = await gw.notify(
      notificationFor(device('com.example.fake', 'slow-200-a'), device('com.example.fake', 'slow-200-b')),
    );
    assert.equal(res.status, 200);
    assert.equal(fake.concurrency.max, 2, 'both slow devices were in flight at the same time');
  });
});
