/**
 * The endpoint policy for Web Push (REFERENCE §6): without allowed_endpoints, loopback, private,
 * link-local and IPv4-mapped literals, plain http, and a DNS name that resolves to loopback are
 * dropped (200, not rejected) and never contacted; allowed_endpoints opens exactly what it names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  browserPusherDevice,
  type FakePushService,
  startFakePushService,
  writeVapidKeyFile,
} from '../fakes/fake-push-service.ts';
import { exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const APP = 'io.element.web';
const keyPath = writeVapidKeyFile().path;
let n = 0;

function app(extra: Record<string, unknown> = {}) {
  return {
    apps: {
      [APP]: {
        type: 'webpush',
        vapid_private_key: keyPath,
        vapid_contact_email: 'ops@example.org',
        ...extra,
      },
    },
  };
}

let fake: FakePushService;
let guarded: TestGateway;
let localhostOnly: TestGateway;
before(async () => {
  fake = await startFakePushService();
  guarded = await startGateway(app());
  localhostOnly = await startGateway(app({ allowed_endpoints: ['localhost:*'] }));
});
after(async () => {
  await Promise.all([guarded.close(), localhostOnly.close()]);
  await fake.close();
});

async function pushTo(gw: TestGateway, endpoint: string) {
  const device = browserPusherDevice(APP, { ...fake.subscribe(), endpoint });
  return gw.notify(exampleNotification([device], { event_id: `$webpush-policy-${++n}` }));
}

describe('Web Push endpoints without allowed_endpoints', () => {
  const blocked: [string, () => string][] = [
    ['IPv4 loopback', () => `https://127.0.0.1:${fake.port}/push/a`],
    ['IPv6 loopback', () => `https://[::1]:${fake.port}/push/a`],
    ['IPv4-mapped IPv6 loopback', () => `https://[::ffff:127.0.0.1]:${fake.port}/push/a`],
    ['IPv4-mapped IPv6 private (hex form)', () => 'https://[::ffff:a00:1]/push/a'],
    ['private 10/8', () => 'https://10.0.0.1/push/a'],
    ['private 172.16/12', () => 'https://172.16.5.4/push/a'],
    ['private 192.168/16', () => 'https://192.168.1.1/push/a'],
    ['link-local (cloud metadata)', () => 'https://169.254.169.254/latest/meta-data'],
    ['IPv6 link-local', () => 'https://[fe80::1]/push/a'],
    ['IPv6 unique local', () => 'https://[fd12:3456::1]/push/a'],
    ['plain http', () => `http://push.example.org/push/a`],
    ['the DNS name localhost (resolves to loopback)', () => `https://localhost:${fake.port}/push/a`],
  ];
  for (const [name, endpoint] of blocked) {
    it(`drops ${name}: 200 without rejecting, never contacted`, async () => {
      const connections = fake.connections();
      const res = await pushTo(guarded, endpoint());
      assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
      assert.equal(fake.connections(), connections, 'no connection was made');
    });
  }

  it('counts and logs each blocked endpoint', async () => {
    await pushTo(guarded, `https://localhost:${fake.port}/push/a`);
    const metric = await guarded.app.metrics.registry.getSingleMetricAsString(
      'herald_endpoints_blocked_total',
    );
    assert.match(metric, /provider="webpush",reason="private_address"\} [1-9]/);
    assert.match(metric, /provider="webpush",reason="scheme"\} [1-9]/);
    assert.ok(guarded.logs.some((l) => l.level === 40 && String(l.msg).includes('endpoint policy')));
  });
});

describe('Web Push endpoints with allowed_endpoints: [localhost:*]', () => {
  it('contacts a matching host even though it is loopback', async () => {
    const subscription = fake.subscribe();
    const before = fake.received.length;
    const res = await localhostOnly.notify(
      exampleNotification([browserPusherDevice(APP, subscription)], { event_id: `$webpush-policy-${++n}` }),
    );
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(fake.received.length, before + 1);
  });

  it('drops a host it does not name, without contacting it', async () => {
    const connections = fake.connections();
    const res = await pushTo(localhostOnly, `https://127.0.0.1:${fake.port}/push/a`);
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(fake.connections(), connections);
  });
});
