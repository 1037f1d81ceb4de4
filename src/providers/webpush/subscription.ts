/**
 * The pusher data of a Web Push pusher, as Sygnal defines it: the pushkey is the subscription's
 * `p256dh` key, `data.endpoint` its push resource URL and `data.auth` its auth secret (the three
 * fields of a browser's `PushSubscription.toJSON()`). Malformed data is the client's mistake that no
 * retry can fix, so it is reported as a reason for rejection, never thrown.
 *
 * RFC 8291 §3.2: p256dh is an uncompressed P-256 point (65 octets), auth a 16-octet secret.
 */
import { ECDH } from 'node:crypto';
import type { Device } from '../../matrix/notification.ts';

export interface Subscription {
  readonly endpoint: string;
  /** The user agent's ECDH public key, 65 octets, checked to be on the curve. */
  readonly p256dh: Buffer;
  /** The 16-octet auth secret. */
  readonly auth: Buffer;
}

export type SubscriptionResult = { ok: true; subscription: Subscription } | { ok: false; reason: string };

// base64url (RFC 4648 §5), optionally padded. The standard alphabet's `+` and `/` are accepted too:
// they are unambiguous, and pywebpush (Sygnal) decodes them, so a pusher Sygnal served keeps working.
const BASE64 = /^[A-Za-z0-9_\-+/]+={0,2}$/;

/** Decodes base64url text strictly; null when it is not base64 at all. */
export function decodeBase64Url(text: string): Buffer | null {
  if (!BASE64.test(text)) return null;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return null; // no whole octet left: not something an encoder makes
  return Buffer.from(unpadded.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
}

/** True when `point` is an uncompressed P-256 point that really lies on the curve. */
export function isP256Point(point: Buffer): boolean {
  if (point.length !== 65 || point[0] !== 0x04) return false;
  try {
    // OpenSSL's EC_POINT_oct2point refuses points off the curve.
    ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'uncompressed');
    return true;
  } catch {
    return false;
  }
}

export function parseSubscription(device: Device): SubscriptionResult {
  const { endpoint, auth } = device.data;
  if (typeof endpoint !== 'string' || endpoint === '') {
    return { ok: false, reason: 'data.endpoint is missing or not a string' };
  }
  if (typeof auth !== 'string' || auth === '') {
    return { ok: false, reason: 'data.auth is missing or not a string' };
  }
  const p256dh = decodeBase64Url(device.pushkey);
  if (p256dh === null) return { ok: false, reason: 'pushkey (p256dh) is not base64url' };
  if (!isP256Point(p256dh)) {
    return { ok: false, reason: 'pushkey (p256dh) is not an uncompressed P-256 public key' };
  }
  const authBytes = decodeBase64Url(auth);
  if (authBytes === null) return { ok: false, reason: 'data.auth is not base64url' };
  if (authBytes.length !== 16) {
    return { ok: false, reason: `data.auth must be 16 bytes, got ${authBytes.length}` };
  }
  return { ok: true, subscription: { endpoint, p256dh, auth: authBytes } };
}
