/**
 * The VAPID key pair (RFC 8292 §3.2): an ECDSA P-256 key. The private key is read from the file
 * Sygnal's `vapid_private_key` names, in the forms py_vapid reads: PEM (PKCS#8 "PRIVATE KEY" or
 * SEC 1 "EC PRIVATE KEY"), or base64url of the DER; and also the raw 32-byte base64url key that
 * `web-push generate-vapid-keys` prints. Browsers need the public key as the 65-byte uncompressed
 * point in base64url (`applicationServerKey`), which is also what goes into `k=`.
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';

export interface VapidKeys {
  readonly privateKey: KeyObject;
  /** The uncompressed public point, base64url: the `k=` parameter and the browser's applicationServerKey. */
  readonly publicKey: string;
}

/** Parses a VAPID private key file's text; throws an Error that says what is wrong. */
export function parseVapidPrivateKey(text: string): VapidKeys {
  const trimmed = text.trim();
  let privateKey: KeyObject;
  if (trimmed.includes('-----BEGIN')) {
    privateKey = createPrivateKey({ key: trimmed, format: 'pem' });
  } else {
    if (!/^[A-Za-z0-9_-]+=*$/.test(trimmed)) throw new Error('not PEM and not base64url');
    const bytes = Buffer.from(trimmed, 'base64url');
    privateKey = bytes.length === 32 ? fromRawScalar(bytes) : fromDer(bytes);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('not an EC P-256 (prime256v1) private key, which VAPID requires (RFC 8292 §3.2)');
  }
  return { privateKey, publicKey: publicPoint(privateKey).toString('base64url') };
}

/** A new key pair: the private key as PKCS#8 PEM (what py_vapid writes) and the public key. */
export function generateVapidKeys(): { pem: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  return { pem, publicKey: publicPoint(privateKey).toString('base64url') };
}

function publicPoint(privateKey: KeyObject): Buffer {
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return Buffer.concat([Buffer.of(4), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
}

function fromRawScalar(d: Buffer): KeyObject {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  return createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: d.toString('base64url'),
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
  });
}

function fromDer(der: Buffer): KeyObject {
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch {
    return createPrivateKey({ key: der, format: 'der', type: 'sec1' });
  }
}
