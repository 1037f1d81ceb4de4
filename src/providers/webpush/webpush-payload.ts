/**
 * The plaintext a Web Push subscription receives (REFERENCE §6): the same JSON Sygnal builds
 * (sygnal/webpushpushkin.py `_build_payload`), so service workers written for Sygnal keep working:
 *
 *   default_payload (if an object), then the non-empty room_id, room_name, room_alias, membership,
 *   event_id, sender, sender_display_name, user_is_target, type, then unread and missed_calls,
 *   then content without formatted_body, body cut to 1000 characters, ciphertext over 2000 dropped.
 *
 * **Herald:** Sygnal stops there and hopes; a push service refuses a body over 4096 bytes (RFC 8030
 * §7.2), so the plaintext is then cut to the 3993 bytes that leaves (RFC 8291 §4): display strings
 * and content first, identifiers never.
 */
import type { JsonObject, Notification } from '../../matrix/notification.ts';
import { fitJson, type JsonPath } from '../../payload/fit-json.ts';
import { MAX_PLAINTEXT_BYTES } from './encrypt.ts';

const NOTIFICATION_FIELDS = [
  'room_id',
  'room_name',
  'room_alias',
  'membership',
  'event_id',
  'sender',
  'sender_display_name',
  'user_is_target',
  'type',
] as const;

/** Sygnal's MAX_BODY_LENGTH and MAX_CIPHERTEXT_LENGTH, in characters (code points, as Python counts). */
export const MAX_BODY_CHARS = 1000;
export const MAX_CIPHERTEXT_CHARS = 2000;

/** Top-level display strings that may be shortened; identifiers and the app's default_payload may not. */
const CUTTABLE_FIELDS = new Set(['room_name', 'sender_display_name']);
/** Content keys whose value is useless once cut (identifiers, algorithm names, the Megolm ciphertext). */
const NEVER_CUT_CONTENT = new Set([
  'msgtype',
  'algorithm',
  'ciphertext',
  'session_id',
  'sender_key',
  'device_id',
  'url',
]);

/** The payload object exactly as Sygnal builds it (before any fitting). */
export function buildWebPushPayload(notification: Notification, defaultPayload: JsonObject): JsonObject {
  const payload: JsonObject = { ...defaultPayload };
  for (const field of NOTIFICATION_FIELDS) {
    const value = notification[field];
    // Python truthiness, as Sygnal: empty strings and `false` are left out.
    if (value !== undefined && value !== '' && value !== false) payload[field] = value;
  }
  if (notification.counts.unread !== undefined) payload.unread = notification.counts.unread;
  if (notification.counts.missed_calls !== undefined) payload.missed_calls = notification.counts.missed_calls;

  if (notification.content !== undefined && Object.keys(notification.content).length > 0) {
    const { formatted_body: _formatted, ...content } = notification.content;
    if (typeof content.body === 'string') {
      const chars = Array.from(content.body);
      if (chars.length > MAX_BODY_CHARS) content.body = `${chars.slice(0, MAX_BODY_CHARS - 1).join('')}…`;
    }
    if (
      typeof content.ciphertext === 'string' &&
      Array.from(content.ciphertext).length > MAX_CIPHERTEXT_CHARS
    ) {
      delete content.ciphertext;
    }
    payload.content = content;
  }
  return payload;
}

/**
 * The plaintext to encrypt, at most MAX_PLAINTEXT_BYTES of UTF-8, or null when even with every
 * display string and the content gone it does not fit (a default_payload that large).
 */
export function buildWebPushPlaintext(notification: Notification, defaultPayload: JsonObject): string | null {
  const payload = buildWebPushPayload(notification, defaultPayload);
  const ownsContent = notification.content !== undefined && 'content' in payload;
  const cuttable = (path: JsonPath): boolean => {
    const top = String(path[0]);
    if (path.length === 1) return CUTTABLE_FIELDS.has(top);
    return ownsContent && top === 'content' && !(path.length === 2 && NEVER_CUT_CONTENT.has(String(path[1])));
  };
  const attempts: JsonObject[] = [payload];
  // A ciphertext cut short cannot be decrypted; without it the client fetches the event by its ID.
  if (ownsContent && 'ciphertext' in (payload.content as JsonObject)) {
    const { ciphertext: _dropped, ...content } = payload.content as JsonObject;
    attempts.push({ ...payload, content });
  }
  if (ownsContent) {
    const { content: _content, ...rest } = payload;
    attempts.push(rest);
  }
  for (const attempt of attempts) {
    const fitted = fitJson(attempt, MAX_PLAINTEXT_BYTES, cuttable);
    if (fitted !== null) return JSON.stringify(fitted);
  }
  return null;
}
