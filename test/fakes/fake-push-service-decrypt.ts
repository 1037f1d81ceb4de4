/**
 * The user agent's side of RFC 8291 (what a browser does with a push message), written step by step
 * from the RFC with HMAC-SHA-256 only, and sharing no code with src/providers/webpush/encrypt.ts (which
 * uses hkdfSync), so a mistake there cannot be mirrored here. Checked against the RFC 8291 Appendix A
 * vector and against the `web-push` package's output in encrypt.test.ts.
 */
import { createDecipheriv, createHmac, type ECDH } from 'node:crypto';

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export interface UserAgentKeys {
  /** The subscription's ECDH key pair (p256dh is its public key). */
  ecdh: ECDH;
  auth: Buffer;
}

/** Decrypts an `aes128gcm` body (RFC 8188 §2, RFC 8291 §3); throws on anything malformed. */
export function decryptWebPush(body: Buffer, keys: UserAgentKeys): Buffer {
  // RFC 8188 §2.1: salt (16) | rs (uint32) | idlen (1) | keyid (idlen)
  if (body.length < 21) throw new Error('body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (idlen !== 65) throw new Error(`keyid must be the 65-octet sender key (RFC 8291 §4), got ${idlen}`);
  const asPublic = body.subarray(21, 21 + idlen);
  const records = body.subarray(21 + idlen);
  if (rs < 18) throw new Error(`record size ${rs} too small`);
  if (records.length > rs) throw new Error('more than one record (RFC 8291 §4 requires one)');
  if (records.length < 17) throw new Error('record shorter than the AEAD tag');

  const uaPublic = keys.ecdh.getPublicKey();
  // RFC 8291 §3.4:
  //   ecdh_secret = ECDH(ua_private, as_public)
  //   PRK_key = HMAC-SHA-256(auth_secret, ecdh_secret)
  //   key_info = "WebPush: info" || 0x00 || ua_public || as_public
  //   IKM = HMAC-SHA-256(PRK_key, key_info || 0x01)
  const ecdhSecret = keys.ecdh.computeSecret(asPublic);
  const prkKey = hmac(keys.auth, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'latin1'), uaPublic, asPublic]);
  const ikm = hmac(prkKey, Buffer.concat([keyInfo, Buffer.of(1)]));
  //   PRK = HMAC-SHA-256(salt, IKM)
  //   CEK = HMAC-SHA-256(PRK, cek_info || 0x01)[0..15]
  //   NONCE = HMAC-SHA-256(PRK, nonce_info || 0x01)[0..11]
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01', 'latin1')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01', 'latin1')).subarray(0, 12);

  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  const padded = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  // RFC 8188 §2: plaintext || delimiter (0x02 for the last record) || zero padding
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2) throw new Error('missing the last-record delimiter 0x02');
  return padded.subarray(0, end);
}
