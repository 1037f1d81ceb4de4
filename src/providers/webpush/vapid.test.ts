import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeJwt, importJWK, jwtVerify } from 'jose';
import type { Clock } from '../../clock.ts';
import { topicForRoom } from './topic.ts';
import { VapidSigner } from './vapid.ts';
import { generateVapidKeys, parseVapidPrivateKey } from './vapid-key.ts';

function fakeClock(start = Date.UTC(2026, 0, 1)) {
  const clock = { t: start, now: () => clock.t, sleep: async () => {} };
  return clock satisfies Clock;
}

function tokenOf(authorization: string): string {
  return /^vapid t=([^,]+), k=/.exec(authorization)![1]!;
}

describe('VapidSigner (RFC 8292)', () => {
  const { pem, publicKey } = generateVapidKeys();
  const keys = parseVapidPrivateKey(pem);

  it('signs an ES256 JWT that verifies against k=, with aud, exp ≤ 24 h and sub', async () => {
    const clock = fakeClock();
    const signer = new VapidSigner({ ...keys, subject: 'mailto:ops@example.org', clock });
    const header = signer.authorization('https://push.example.net');
    const [, token, k] = /^vapid t=([^,]+), k=(.+)$/.exec(header)!;
    assert.equal(k, publicKey);
    const point = Buffer.from(k!, 'base64url');
    const key = await importJWK(
      {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33).toString('base64url'),
      },
      'ES256',
    );
    const { payload, protectedHeader } = await jwtVerify(token!, key, { currentDate: new Date(clock.t) });
    assert.deepEqual(protectedHeader, { typ: 'JWT', alg: 'ES256' });
    assert.equal(payload.aud, 'https://push.example.net');
    assert.equal(payload.sub, 'mailto:ops@example.org');
    assert.ok(payload.exp! * 1000 > clock.t && payload.exp! * 1000 <= clock.t + 24 * 3600_000);
  });

  it('reuses one token per origin until near expiry, then signs a new one', () => {
    const clock = fakeClock();
    let minted = 0;
    const signer = new VapidSigner({ ...keys, subject: 'mailto:a@b.c', clock, onMint: () => minted++ });
    const first = signer.authorization('https://a.example');
    clock.t += 10 * 3600_000;
    assert.equal(signer.authorization('https://a.example'), first);
    const other = signer.authorization('https://b.example');
    assert.notEqual(other, first);
    assert.equal(decodeJwt(tokenOf(other)).aud, 'https://b.example');
    assert.equal(minted, 2);
    clock.t += 1.5 * 3600_000; // 11.5 h after the first: less than an hour left
    const renewed = signer.authorization('https://a.example');
    assert.notEqual(renewed, first);
    assert.ok(decodeJwt(tokenOf(renewed)).exp! * 1000 > clock.t + 11 * 3600_000);
    assert.equal(minted, 3);
  });
});

describe('parseVapidPrivateKey', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  const expectedPublic = Buffer.concat([
    Buffer.of(4),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]).toString('base64url');
  const forms: [string, string][] = [
    ['PKCS#8 PEM', privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()],
    ['SEC 1 PEM (EC PRIVATE KEY)', privateKey.export({ format: 'pem', type: 'sec1' }).toString()],
    ['base64url DER (py_vapid)', privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url')],
    ['raw 32-byte base64url (web-push CLI)', jwk.d!],
  ];
  for (const [name, text] of forms) {
    it(`reads ${name}`, () => assert.equal(parseVapidPrivateKey(text).publicKey, expectedPublic));
  }
  it('refuses other curves and garbage', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    assert.throws(() => parseVapidPrivateKey(p384.toString()), /P-256/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    assert.throws(() => parseVapidPrivateKey(rsa.toString()), /P-256/);
    assert.throws(() => parseVapidPrivateKey('hello world'), /not PEM/);
  });
});

describe('topicForRoom (RFC 8030 §5.4)', () => {
  it('is 32 URL-safe base64 characters, stable per room, different across rooms', () => {
    const topic = topicForRoom('!room:example.org');
    assert.match(topic, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(topicForRoom('!room:example.org'), topic);
    assert.notEqual(topicForRoom('!other:example.org'), topic);
    assert.match(topicForRoom('!部屋'), /^[A-Za-z0-9_-]{32}$/);
  });
});
