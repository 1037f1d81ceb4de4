import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import webpush from 'web-push';
import { decryptWebPush } from '../../../test/fakes/fake-push-service-decrypt.ts';
import { encryptAes128gcm, MAX_PLAINTEXT_BYTES } from './encrypt.ts';

const b64 = (text: string) => Buffer.from(text, 'base64url');

/** RFC 8291 Appendix A (§5 example), line breaks removed. */
const RFC8291 = {
  plaintext: 'When I grow up, I want to be a watermelon',
  asPrivate: 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw',
  uaPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  authSecret: 'BTBZMqHH6r4Tts7J_aSIgg',
  salt: 'DGv6ra1nlYgDCS1FRnbzlw',
  body: 'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};

function ecdhFrom(privateKey: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(b64(privateKey));
  return ecdh;
}

function newUserAgent() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { ecdh, auth: randomBytes(16) };
}

describe('encryptAes128gcm (RFC 8291)', () => {
  it('reproduces the RFC 8291 Appendix A message byte for byte', () => {
    const ua = ecdhFrom(RFC8291.uaPrivate);
    const body = encryptAes128gcm(
      Buffer.from(RFC8291.plaintext),
      ua.getPublicKey(),
      b64(RFC8291.authSecret),
      {
        salt: b64(RFC8291.salt),
        senderKeys: ecdhFrom(RFC8291.asPrivate),
      },
    );
    assert.equal(body.toString('base64url'), RFC8291.body);
  });

  it("the fake's decryption reads the RFC 8291 Appendix A message", () => {
    const keys = { ecdh: ecdhFrom(RFC8291.uaPrivate), auth: b64(RFC8291.authSecret) };
    assert.equal(decryptWebPush(b64(RFC8291.body), keys).toString(), RFC8291.plaintext);
  });

  it("the fake's decryption reads what the web-push package encrypts (an independent implementation)", () => {
    const ua = newUserAgent();
    const { cipherText } = webpush.encrypt(
      ua.ecdh.getPublicKey().toString('base64url'),
      ua.auth.toString('base64url'),
      '{"room_id":"!r:example.org"}',
      'aes128gcm',
    );
    assert.equal(decryptWebPush(cipherText, ua).toString(), '{"room_id":"!r:example.org"}');
  });

  it('uses a fresh sender key and salt for every message', () => {
    const ua = newUserAgent();
    const one = encryptAes128gcm(Buffer.from('same'), ua.ecdh.getPublicKey(), ua.auth);
    const two = encryptAes128gcm(Buffer.from('same'), ua.ecdh.getPublicKey(), ua.auth);
    assert.notDeepEqual(one.subarray(0, 86), two.subarray(0, 86));
    assert.equal(decryptWebPush(one, ua).toString(), 'same');
    assert.equal(decryptWebPush(two, ua).toString(), 'same');
  });

  it('a maximal plaintext makes a body of exactly 4096 bytes', () => {
    const ua = newUserAgent();
    const plaintext = Buffer.alloc(MAX_PLAINTEXT_BYTES, 'é'.charCodeAt(0));
    const body = encryptAes128gcm(plaintext, ua.ecdh.getPublicKey(), ua.auth);
    assert.equal(body.length, 4096);
    assert.deepEqual(decryptWebPush(body, ua), plaintext);
  });

  it('a wrong auth secret does not decrypt', () => {
    const ua = newUserAgent();
    const body = encryptAes128gcm(Buffer.from('secret'), ua.ecdh.getPublicKey(), ua.auth);
    assert.throws(() => decryptWebPush(body, { ecdh: ua.ecdh, auth: randomBytes(16) }));
  });
});
