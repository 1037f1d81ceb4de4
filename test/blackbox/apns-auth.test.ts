/** APNs credentials: the provider token (ES256 JWT) and its reuse/renewal, certificate auth, config errors. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { validateConfig } from '../../src/config/load.ts';
import { providerTable } from '../../src/providers/registry.ts';
import {
  APP_ID,
  type ApnsRig,
  CLIENT_CERT,
  hexToken,
  KEY_ID,
  manualClock,
  pushkeyFor,
  startApnsRig,
  TEAM_ID,
  TOPIC,
  writeSigningKey,
} from '../fakes/fake-apns-setup.ts';
import { device, exampleNotification } from '../helpers/fixtures.ts';
import { startGateway } from '../helpers/gateway.ts';

const MINUTE = 60_000;
let n = 0;

async function push(rig: ApnsRig, label = `auth${++n}`) {
  const pushkey = pushkeyFor(label);
  const res = await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: `$${label}` }));
  return { res, pushkey, seen: rig.fake.requestsFor(hexToken(pushkey)) };
}

async function metric(rig: ApnsRig, pattern: RegExp): Promise<number> {
  const match = pattern.exec(await rig.gw.app.metrics.registry.metrics());
  return match ? Number(match[1]) : 0;
}
const REFRESHES = /herald_auth_token_refreshes_total\{[^}]*provider="apns",result="ok"\} (\d+)/;
const RETRIES = /herald_retries_total\{[^}]*provider="apns"\} (\d+)/;

describe('apns token auth: the JWT, reused and renewed on the injected clock', () => {
  const clock = manualClock();
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig({ deps: { clock } });
  });
  after(() => rig.close());

  it('signs an ES256 JWT with kid, iss and iat that APNs verifies', async () => {
    const { res, seen } = await push(rig);
    assert.equal(res.status, 200);
    assert.deepEqual(seen[0]!.answer, { status: 200, reason: '' });
    const jwt = seen[0]!.jwt!;
    assert.deepEqual(decodeProtectedHeader(jwt), { alg: 'ES256', kid: KEY_ID });
    assert.deepEqual(decodeJwt(jwt), { iss: TEAM_ID, iat: Math.floor(clock.now() / 1000) });
  });

  it('reuses the token for 40 minutes, then renews it (Apple: not more often than every 20 minutes)', async () => {
    const first = (await push(rig)).seen[0]!.jwt;
    const minted = decodeJwt(first!).iat!;
    clock.advance(20 * MINUTE);
    assert.equal((await push(rig)).seen[0]!.jwt, first);
    clock.advance(19 * MINUTE);
    assert.equal((await push(rig)).seen[0]!.jwt, first);
    const refreshesBefore = await metric(rig, REFRESHES);
    clock.advance(2 * MINUTE);
    const renewed = (await push(rig)).seen[0]!.jwt!;
    assert.notEqual(renewed, first);
    assert.equal(decodeJwt(renewed).iat, minted + 41 * 60);
    assert.equal(await metric(rig, REFRESHES), refreshesBefore + 1);
    // And the new one is reused in turn.
    clock.advance(MINUTE);
    assert.equal((await push(rig)).seen[0]!.jwt, renewed);
  });

  it('50 pushes at once when the token is due for renewal sign one new JWT, not one each', async () => {
    // Apple answers 429 TooManyProviderTokenUpdates when tokens change faster than every 20 minutes.
    await push(rig);
    const known = new Set(rig.fake.distinctJwts());
    const refreshesBefore = await metric(rig, REFRESHES);
    clock.advance(41 * MINUTE);
    const pushkeys = Array.from({ length: 50 }, (_, i) => pushkeyFor(`renew-burst-${i}`));
    const res = await rig.gw.notify(
      exampleNotification(
        pushkeys.map((p) => device(APP_ID, p)),
        { event_id: '$renew-burst' },
      ),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    const fresh = rig.fake.distinctJwts().filter((jwt) => !known.has(jwt));
    assert.equal(fresh.length, 1, `${fresh.length} new JWTs`);
    for (const p of pushkeys) assert.equal(rig.fake.requestsFor(hexToken(p))[0]!.jwt, fresh[0]);
    assert.equal(await metric(rig, REFRESHES), refreshesBefore + 1);
  });

  it('never sends a token APNs considers expired, however long the gateway idles', async () => {
    clock.advance(5 * 60 * MINUTE);
    const { res, seen } = await push(rig);
    assert.equal(res.status, 200);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0]!.answer, { status: 200, reason: '' });
  });

  it('403 ExpiredProviderToken → renews the token once and sends again, same apns-id, no dispatcher retry', async () => {
    const pushkey = pushkeyFor('expired-once');
    rig.fake.script(hexToken(pushkey), { status: 403, reason: 'ExpiredProviderToken' });
    const retriesBefore = await metric(rig, RETRIES);
    const res = await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: '$eo' }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { rejected: [] });
    const seen = rig.fake.requestsFor(hexToken(pushkey));
    assert.equal(seen.length, 2);
    assert.notEqual(seen[0]!.jwt, seen[1]!.jwt);
    assert.equal(seen[0]!.headers['apns-id'], seen[1]!.headers['apns-id']);
    assert.deepEqual(seen[1]!.answer, { status: 200, reason: '' });
    assert.equal(await metric(rig, RETRIES), retriesBefore);
    // The renewed token is the one used from now on.
    assert.equal((await push(rig)).seen[0]!.jwt, seen[1]!.jwt);
  });

  it('ExpiredProviderToken for many pushes at once renews the token once, not once per push', async () => {
    const pushkeys = Array.from({ length: 8 }, (_, i) => pushkeyFor(`expired-many-${i}`));
    for (const p of pushkeys) rig.fake.script(hexToken(p), { status: 403, reason: 'ExpiredProviderToken' });
    const refreshesBefore = await metric(rig, REFRESHES);
    const res = await rig.gw.notify(
      exampleNotification(
        pushkeys.map((p) => device(APP_ID, p)),
        { event_id: '$em' },
      ),
    );
    assert.equal(res.status, 200);
    assert.equal(await metric(rig, REFRESHES), refreshesBefore + 1);
    const retried = new Set(pushkeys.map((p) => rig.fake.requestsFor(hexToken(p))[1]!.jwt));
    assert.equal(retried.size, 1);
  });

  it('ExpiredProviderToken again after the renewal → 502 after exactly two requests (no loop)', async () => {
    const pushkey = pushkeyFor('expired-twice');
    const expired = { status: 403, reason: 'ExpiredProviderToken' };
    rig.fake.script(hexToken(pushkey), expired, expired, expired);
    const res = await rig.gw.notify(exampleNotification([device(APP_ID, pushkey)], { event_id: '$et' }));
    assert.equal(res.status, 502);
    assert.equal(rig.fake.requestsFor(hexToken(pushkey)).length, 2);
  });
});

describe('apns certificate auth', () => {
  let rig: ApnsRig;
  before(async () => {
    rig = await startApnsRig({ mode: 'cert' });
  });
  after(() => rig.close());

  it('presents the client certificate; topic from its subject UID; no bearer token', async () => {
    const { res, seen } = await push(rig);
    assert.equal(res.status, 200);
    assert.deepEqual(seen[0]!.answer, { status: 200, reason: '' });
    assert.equal(seen[0]!.headers['apns-topic'], TOPIC);
    assert.equal(seen[0]!.headers.authorization, undefined);
  });

  it('exports the certificate expiry as a metric', async () => {
    const text = await rig.gw.app.metrics.registry.metrics();
    const expiry = Date.parse('2126-11-01T08:02:22Z') / 1000;
    assert.match(
      text,
      new RegExp(`herald_apns_certificate_expiry_timestamp_seconds\\{app="${APP_ID}"\\} ${expiry}\\b`),
    );
  });
});

describe('apns config: credentials checked at start', () => {
  const app = (section: Record<string, unknown>) => ({
    apps: { [APP_ID]: { type: 'apns', ...section } },
  });
  const path = (key: string) => `apps["${APP_ID}"].${key}`;

  it('no credentials at all: names keyfile and says what to set', async () => {
    await assert.rejects(startGateway(app({})), (error: Error & { path?: string }) => {
      assert.equal(error.name, 'ConfigError');
      assert.equal(error.path, path('keyfile'));
      assert.match(error.message, /set keyfile, key_id, team_id and topic.*or certfile/);
      return true;
    });
  });

  for (const missing of ['key_id', 'team_id', 'topic']) {
    it(`token auth without ${missing}: names it`, async () => {
      const section: Record<string, unknown> = {
        keyfile: writeSigningKey().keyfile,
        key_id: KEY_ID,
        team_id: TEAM_ID,
        topic: TOPIC,
      };
      delete section[missing];
      await assert.rejects(startGateway(app(section)), { name: 'ConfigError', path: path(missing) });
    });
  }

  it('an unreadable keyfile: names keyfile and the file', async () => {
    await assert.rejects(
      startGateway(
        app({ keyfile: '/nonexistent/AuthKey.p8', key_id: KEY_ID, team_id: TEAM_ID, topic: TOPIC }),
      ),
      (error: Error & { path?: string }) =>
        error.path === path('keyfile') && /nonexistent.*ENOENT/.test(error.message),
    );
  });

  it('a keyfile that is not a P-256 key: names keyfile', async () => {
    const { keyfile } = writeSigningKey();
    writeFileSync(keyfile, '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n');
    await assert.rejects(startGateway(app({ keyfile, key_id: KEY_ID, team_id: TEAM_ID, topic: TOPIC })), {
      name: 'ConfigError',
      path: path('keyfile'),
    });
  });

  it('an unreadable certfile, or one without a key: names certfile', async () => {
    await assert.rejects(startGateway(app({ certfile: '/nonexistent/cert.pem' })), {
      path: path('certfile'),
    });
    const { keyfile } = writeSigningKey();
    writeFileSync(keyfile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    await assert.rejects(startGateway(app({ certfile: keyfile })), (error: Error & { path?: string }) => {
      assert.equal(error.path, path('certfile'));
      assert.match(error.message, /certificate and its unencrypted private key/);
      return true;
    });
  });

  it('certfile wins when both are set (a broken keyfile is then irrelevant), as in Sygnal', async () => {
    const gw = await startGateway(app({ certfile: CLIENT_CERT, keyfile: '/nonexistent/AuthKey.p8' }));
    await gw.close();
  });

  it('a Sygnal app section works unchanged (platform, push_type, convert_device_token_to_hex, …)', async () => {
    const section = app({
      keyfile: writeSigningKey().keyfile,
      key_id: KEY_ID,
      team_id: TEAM_ID,
      topic: TOPIC,
      platform: 'sandbox',
      push_type: 'alert',
      convert_device_token_to_hex: true,
      send_badge_counts: false,
      inflight_request_limit: 100,
    });
    // No warning about unknown keys: every Sygnal key is understood.
    assert.deepEqual(validateConfig(section, providerTable()).warnings, []);
    const gw = await startGateway(section);
    await gw.close();
    for (const platform of ['production', 'prod']) {
      const other = await startGateway(app({ certfile: CLIENT_CERT, platform }));
      await other.close();
    }
  });

  it('an unknown platform or push_type is refused at start, naming the key', async () => {
    await assert.rejects(startGateway(app({ certfile: CLIENT_CERT, platform: 'staging' })), (error: Error) =>
      error.message.includes('platform'),
    );
    await assert.rejects(startGateway(app({ certfile: CLIENT_CERT, push_type: 'loud' })), (error: Error) =>
      error.message.includes('push_type'),
    );
  });
});
