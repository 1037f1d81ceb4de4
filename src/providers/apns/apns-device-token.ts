/**
 * The device token in `POST /3/device/<token>`. iOS apps register the token base64-encoded as the
 * pushkey; Apple wants it in hex. Sygnal calls Python's lenient `b64decode` (which silently drops
 * characters outside the alphabet) and answers 500, retried forever, when that still fails;
 * Herald rejects a pushkey that is not base64, so the homeserver deletes the broken pusher.
 */

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The path segment for this pushkey, or null when the pushkey cannot be a device token. */
export function deviceTokenPath(pushkey: string, convertToHex: boolean): string | null {
  if (!convertToHex) return encodeURIComponent(pushkey);
  if (!BASE64.test(pushkey)) return null;
  const unpadded = pushkey.replace(/=+$/, '');
  // A length of 1 mod 4 cannot come from whole bytes; padding, when present, must complete a block.
  if (unpadded.length % 4 === 1) return null;
  if (pushkey.length !== unpadded.length && pushkey.length % 4 !== 0) return null;
  const bytes = Buffer.from(unpadded, 'base64');
  return bytes.length === 0 ? null : bytes.toString('hex');
}
