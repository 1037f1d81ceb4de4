/**
 * The SSRF guard for client-chosen endpoints (REFERENCE §6, shared by UnifiedPush and Web Push):
 * without allowed_endpoints only https on public addresses; blocked endpoints are dropped (200,
 * not rejected) and never contacted; an explicit allowed_endpoints match is trusted as written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FakeEndpoint, startFakeEndpoint } from '../fakes/fake-unifiedpush-endpoint.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

let plain: FakeEndpoint;
let tls: FakeEndpoint;
let guarded: TestGateway;
let trusting: TestGateway;
before(async () => {
  plain = await startFakeEndpoint();
  tls = await startFakeEndpoint({ tls: true });
  guarded = await startGateway({ apps: { '*': { type: 'unifiedpush' } } });
  trusting = await startGateway({
    apps: { '*': { type: 'unifiedpush', allowed_endpoints: ['LOCALHOST:*'] } },
  });
});
after(async () => {
  await Promise.all([guarded.close(), trusting.close()]);
  await Promise.all([plain.close(), tls.close()]);
});

let n = 0;
async function push(gw: TestGateway, url: string) {
  return gw.notify(exampleNotification([device('any.app', url)], { event_id: `$policy-${++n}` }));
}

describe('default policy (no allowed_endpoints)', () => {
  const blocked = (port: () => number): [string, () => string][] => [
    ['plain http, even to a public-looking name', () => `http://push.example.org:${port()}/ok`],
    ['IPv4 loopback', () => `https://127.0.0.1:${port()}/ok`],
    ['IPv6 loopback', () => `https://[::1]:${port()}/ok`],
    ['IPv4-mapped IPv6 loopback', () => `https://[::ffff:127.0.0.1]:${port()}/ok`],
    ['private 10/8', () => 'https://10.1.2.3/ok'],
    ['private 192.168/16', () => 'https://192.168.0.10/ok'],
    ['link-local (cloud metadata)', () => 'https://169.254.169.254/latest/meta-data'],
    ['CGNAT', () => 'https://100.64.0.1/ok'],
    ['IPv6 unique local', () => 'https://[fd00::1]/ok'],
    ['IPv6 link-local', () => 'https://[fe80::1]/ok'],
    ['decimal-encoded loopback', () => `https://2130706433:${port()}/ok`],
    ['a DNS name resolving to loopback', () => `https://localhost:${port()}/ok`],
  ];
  for (const [name, url] of blocked(() => tls.port)) {
    it(`drops ${name} without contacting it`, async () => {
      const before = tls.received.length + plain.received.length;
      const res = await push(guarded, url());
      assert.deepEqual([res.status, res.json], [200, { rejected: [] }], 'dropped, not rejected');
      assert.equal(tls.received.length + plain.received.length, before, 'the endpoint was not contacted');
    });
  }

  it('counts and logs what it blocked', async () => {
    await push(guarded, `https://localhost:${tls.port}/ok`);
    const metrics = await guarded.app.metrics.registry.getSingleMetricAsString(
      'herald_endpoints_blocked_total',
    );
    assert.match(metrics, /reason="private_address"/);
    assert.ok(guarded.logs.some((l) => String(l.msg).includes('endpoint policy')));
  });
});

describe('allowed_endpoints', () => {
  it('trusts a matching host as written, private address included, case-insensitively', async () => {
    const before = tls.received.length;
    const res = await push(trusting, `https://localhost:${tls.port}/ok/allowed`);
    assert.equal(res.status, 200);
    assert.equal(tls.received.length, before + 1);
  });

  it('allows plain http for a matching host', async () => {
    const before = plain.received.length;
    const res = await push(trusting, `http://localhost:${plain.port}/ok/http`);
    assert.equal(res.status, 200);
    assert.equal(plain.received.length, before + 1);
  });

  it('blocks every host that does not match, public or not', async () => {
    const before = plain.received.length;
    const res = await push(trusting, `http://127.0.0.1:${plain.port}/ok`);
    assert.deepEqual([res.status, res.json], [200, { rejected: [] }]);
    assert.equal(plain.received.length, before);
  });
});
