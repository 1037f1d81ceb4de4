/**
 * VAPID as the push service sees it (RFC 8292): one token per origin, reused across pushes until
 * near expiry, `aud` the origin of each endpoint, a new token once the old one is about to expire;
 * and the config checks for the VAPID key and contact.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  browserPusherDevice,
  type FakePushService,
  startFakePushService,
  writeVapidKeyFile,
} from '../fakes/fake-push-service.ts';
import { exampleNotification } from '../helpers/fixtures.ts';
import { startGateway, type TestGateway } from '../helpers/gateway.ts';

const APP = 'io.element.web';
let n = 0;

function app(extra: Record<string, unknown>) {
  return {
    apps: {
      [APP]: {
        type: 'webpush',
        vapid_contact_email: 'ops@example.org',
        allowed_endpoints: ['localhost:*', '127.0.0.1:*'],
        ...extra,
      },
    },
  };
}

describe('VAPID tokens', () => {
  // The gateway and the fake share a clock that the test moves forward.
  let offset = 0;
  const now = () => Date.now() + offset;
  const clock: Clock = { now, sleep: async () => {} };
  let fake: FakePushService;
  let gw: TestGateway;
  before(async () => {
    fake = await startFakePushService({ now });
    gw = await startGateway(app({ vapid_private_key: writeVapidKeyFile().path }), { clock });
  });
  after(async () => {
    await gw.close();
    await fake.close();
  });

  async function push(host = 'localhost') {
    const res = await gw.notify(
      exampleNotification([browserPusherDevice(APP, fake.subscribe(host))], { event_id: `$vapid-${++n}` }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(fake.refused, []);
    return fake.received.at(-1)!.vapid;
  }

  it('reuses one token for two pushes to the same origin, signs another for another origin', async () => {
    const first = await push();
    const second = await push();
    assert.equal(second.token, first.token);
    const other = await push('127.0.0.1');
    assert.notEqual(other.token, first.token);
    assert.equal(first.claims.aud, `https://localhost:${fake.port}`);
    assert.equal(other.claims.aud, `https://127.0.0.1:${fake.port}`);
    const minted = await gw.app.metrics.registry.getSingleMetricAsString('herald_auth_token_refreshes_total');
    assert.match(minted, /provider="webpush",result="minted"\} 2/);
  });

  it('keeps the token while it is valid and renews it before it expires', async () => {
    const first = await push();
    offset += 6 * 3600_000;
    assert.equal((await push()).token, first.token);
    // 11.5 h in, the first token is still valid but inside the one-hour renewal margin: a new one
    // is sent (at 12 h it would be expired, which a signer without a margin also notices).
    offset += 5.5 * 3600_000;
    assert.ok(first.claims.exp! * 1000 > now(), 'the first token has not expired yet');
    const renewed = await push();
    assert.notEqual(renewed.token, first.token);
    assert.ok(renewed.claims.exp! * 1000 > now());
  });
});

describe('VAPID configuration', () => {
  async function configError(extra: Record<string, unknown>): Promise<ConfigError> {
    try {
      const gw = await startGateway(app(extra));
      await gw.close();
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error;
    }
    assert.fail('the gateway started');
  }

  it('a missing vapid_private_key names the key', async () => {
    const error = await configError({});
    assert.match(error.message, /vapid_private_key/);
  });

  it('an unreadable key file names the key and says how to generate one', async () => {
    const error = await configError({ vapid_private_key: '/nonexistent/vapid.pem' });
    assert.equal(error.path, `apps["${APP}"].vapid_private_key`);
    assert.match(error.message, /cannot read/);
    assert.match(error.message, /npm run vapid-keys/);
  });

  it('a file that is not a P-256 key names the key and says how to generate one', async () => {
    const path = writeVapidKeyFile().path;
    writeFileSync(path, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    const error = await configError({ vapid_private_key: path });
    assert.equal(error.path, `apps["${APP}"].vapid_private_key`);
    assert.match(error.message, /not a VAPID private key/);
    assert.match(error.message, /vapid-keys/);
  });

  it('a missing or invalid vapid_contact_email names the key', async () => {
    const path = writeVapidKeyFile().path;
    const missing = await configError({ vapid_private_key: path, vapid_contact_email: undefined });
    assert.match(missing.message, /vapid_contact_email/);
    const invalid = await configError({ vapid_private_key: path, vapid_contact_email: 'not an email' });
    assert.equal(invalid.path, `apps["${APP}"].vapid_contact_email`);
  });

  it('an address already written as mailto: is not prefixed twice', async () => {
    const fake = await startFakePushService();
    const gw = await startGateway(
      app({ vapid_private_key: writeVapidKeyFile().path, vapid_contact_email: 'mailto:ops@example.org' }),
    );
    try {
      await gw.notify(exampleNotification([browserPusherDevice(APP, fake.subscribe())]));
      assert.equal(fake.received[0]?.vapid.claims.sub, 'mailto:ops@example.org');
    } finally {
      await gw.close();
      await fake.close();
    }
  });
});
