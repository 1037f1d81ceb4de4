/**
 * Web Push: encryption (RFC 8291) + VAPID (RFC 8292) for a 1 KB payload, ops/sec, node:crypto
 * (Herald's src/providers/webpush) against the `web-push` package doing the same work as its
 * sendNotification (encrypt + getVapidHeaders). Run: node_modules/.bin/node bench/webpush-encrypt.ts
 */
import { createECDH, randomBytes } from 'node:crypto';
import webpush from 'web-push';
import { systemClock } from '../src/clock.ts';
import { encryptAes128gcm } from '../src/providers/webpush/encrypt.ts';
import { VapidSigner } from '../src/providers/webpush/vapid.ts';
import { generateVapidKeys, parseVapidPrivateKey } from '../src/providers/webpush/vapid-key.ts';

const ua = createECDH('prime256v1');
ua.generateKeys();
const p256dh = ua.getPublicKey();
const auth = randomBytes(16);
const payload = Buffer.from(JSON.stringify({ content: { body: 'x'.repeat(1000) } }).slice(0, 1024));
const audience = 'https://fcm.googleapis.com';
const subject = 'mailto:ops@example.org';

const { pem } = generateVapidKeys();
const keys = parseVapidPrivateKey(pem);
const cached = new VapidSigner({ ...keys, subject, clock: systemClock });
const wp = webpush.generateVAPIDKeys();

function measure(name: string, op: () => unknown, ms = 2000): number {
  for (let i = 0; i < 200; i++) op(); // warm up
  let count = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) op();
    count += 50;
  }
  const perSec = Math.round(count / ((performance.now() - start) / 1000));
  console.log(`${name.padEnd(44)} ${String(perSec).padStart(7)} ops/s`);
  return perSec;
}

console.log(`Node ${process.version}, payload ${payload.length} bytes`);
measure('node:crypto encrypt + VAPID (token cached)', () => {
  encryptAes128gcm(payload, p256dh, auth);
  cached.authorization(audience);
});
measure('node:crypto encrypt + VAPID (signed each time)', () => {
  encryptAes128gcm(payload, p256dh, auth);
  new VapidSigner({ ...keys, subject, clock: systemClock }).authorization(audience);
});
measure('node:crypto encrypt only', () => encryptAes128gcm(payload, p256dh, auth));
const p256dhText = p256dh.toString('base64url');
const authText = auth.toString('base64url');
measure('web-push encrypt + getVapidHeaders', () => {
  webpush.encrypt(p256dhText, authText, payload, 'aes128gcm');
  webpush.getVapidHeaders(audience, subject, wp.publicKey, wp.privateKey, 'aes128gcm');
});
measure('web-push encrypt only', () => webpush.encrypt(p256dhText, authText, payload, 'aes128gcm'));
