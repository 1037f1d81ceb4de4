import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Device } from '../../matrix/notification.ts';
import { parseSubscription } from './subscription.ts';

const ecdh = createECDH('prime256v1');
ecdh.generateKeys();
const P256DH = ecdh.getPublicKey().toString('base64url');
const AUTH = randomBytes(16).toString('base64url');
const ENDPOINT = 'https://push.example.net/wpush/v2/abc';

function device(pushkey: string, data: Record<string, unknown>): Device {
  return { app_id: 'web', pushkey, pushkey_ts: 0, data, tweaks: {} };
}

/** A point with a valid length and prefix that is not on the curve (y changed). */
function offCurve(): string {
  const point = ecdh.getPublicKey();
  point[64]! ^= 1;
  return point.toString('base64url');
}

describe('parseSubscription', () => {
  it('accepts a browser subscription: p256dh pushkey, data.endpoint, data.auth', () => {
    const result = parseSubscription(device(P256DH, { endpoint: ENDPOINT, auth: AUTH }));
    assert.ok(result.ok);
    assert.equal(result.subscription.endpoint, ENDPOINT);
    assert.deepEqual(result.subscription.p256dh, ecdh.getPublicKey());
    assert.equal(result.subscription.auth.length, 16);
  });

  it('accepts padded and standard-alphabet base64 (as pywebpush, Sygnal, does)', () => {
    const standard = ecdh.getPublicKey().toString('base64');
    const paddedAuth = Buffer.from(AUTH, 'base64url').toString('base64');
    assert.ok(parseSubscription(device(standard, { endpoint: ENDPOINT, auth: paddedAuth })).ok);
  });

  const rejected: [string, string, Record<string, unknown>, RegExp][] = [
    ['no endpoint', P256DH, { auth: AUTH }, /data\.endpoint is missing/],
    ['endpoint not a string', P256DH, { endpoint: 42, auth: AUTH }, /data\.endpoint/],
    ['no auth', P256DH, { endpoint: ENDPOINT }, /data\.auth is missing/],
    ['auth not a string', P256DH, { endpoint: ENDPOINT, auth: ['x'] }, /data\.auth is missing/],
    ['auth not base64', P256DH, { endpoint: ENDPOINT, auth: 'not base64!' }, /data\.auth is not base64url/],
    [
      'auth of 15 bytes',
      P256DH,
      { endpoint: ENDPOINT, auth: randomBytes(15).toString('base64url') },
      /16 bytes, got 15/,
    ],
    [
      'auth of 32 bytes',
      P256DH,
      { endpoint: ENDPOINT, auth: randomBytes(32).toString('base64url') },
      /16 bytes, got 32/,
    ],
    ['pushkey not base64', 'p256dh?!', { endpoint: ENDPOINT, auth: AUTH }, /not base64url/],
    [
      'pushkey a base64 length no encoder makes',
      'AAAAA',
      { endpoint: ENDPOINT, auth: AUTH },
      /not base64url/,
    ],
    ['pushkey too short', P256DH.slice(0, 80), { endpoint: ENDPOINT, auth: AUTH }, /P-256/],
    [
      'pushkey compressed point',
      Buffer.concat([Buffer.of(2), ecdh.getPublicKey().subarray(1, 33)]).toString('base64url'),
      { endpoint: ENDPOINT, auth: AUTH },
      /P-256/,
    ],
    ['pushkey not on the curve', offCurve(), { endpoint: ENDPOINT, auth: AUTH }, /P-256/],
    [
      'pushkey all zeros',
      Buffer.alloc(65).toString('base64url'),
      { endpoint: ENDPOINT, auth: AUTH },
      /P-256/,
    ],
  ];
  for (const [name, pushkey, data, reason] of rejected) {
    it(`rejects: ${name}`, () => {
      const result = parseSubscription(device(pushkey, data));
      assert.equal(result.ok, false);
      assert.match((result as { reason: string }).reason, reason);
    });
  }
});
