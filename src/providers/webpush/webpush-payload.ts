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
 * and content first, identifiers and default_payload never; an event still too large gives up
 * fields (EXPENDABLE) rather than cost the pusher its registration.
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
 * What an event that cannot fit gives up, in this order. Homeservers put no bound on these fields;
 * the event ID, room ID and counts are enough for a client to fetch the rest. (room_name,
 * sender_display_name and content strings are cut, down to nothing, before any of this.)
 */
const EXPENDABLE = ['ciphertext', 'room_alias', 'membership', 'content', 'type', 'sender'] as const;

/** Whether the event brought content (buildWebPushPayload then replaces any default_payload.content). */
function ownsContent(notification: Notification): boolean {
  return notification.content !== undefined && Object.keys(notification.content).length > 0;
}

/**
 * Whether the pusher's default_payload alone fits a message. When it does not, no push to this
 * pusher can ever work, so it is rejected; anything else that does not fit is one event's problem.
 */
export function defaultPayloadFits(defaultPayload: JsonObject): boolean {
  return Buffer.byteLength(JSON.stringify(defaultPayload)) <= MAX_PLAINTEXT_BYTES;
}

/**
 * The plaintext to encrypt, at most MAX_PLAINTEXT_BYTES of UTF-8. Display strings and the event's
 * content are cut first; failing that the event is sent as if it had carried less, giving up each
 * of EXPENDABLE in turn (default_payload's value for a key then comes back, as it would for an
 * event without it). Null when even that does not fit.
 */
export function buildWebPushPlaintext(notification: Notification, defaultPayload: JsonObject): string | null {
  for (const reduced of reductions(notification)) {
    const fitted = fit(buildWebPushPayload(reduced, defaultPayload), reduced);
    if (fitted !== null) return fitted;
  }
  return null;
}

function* reductions(notification: Notification): Generator<Notification> {
  yield notification;
  let reduced = notification;
  for (const step of EXPENDABLE) {
    if (step === 'ciphertext') {
      // A ciphertext cut short cannot be decrypted; without it the client fetches the event by its ID.
      if (!ownsContent(reduced) || reduced.content!.ciphertext === undefined) continue;
      const { ciphertext: _dropped, ...content } = reduced.content!;
      reduced = { ...reduced, content };
    } else if (step === 'content') {
      if (!ownsContent(reduced)) continue;
      reduced = { ...reduced, content: undefined };
    } else {
      if (reduced[step] === undefined) continue;
      reduced = { ...reduced, [step]: undefined };
    }
    yield reduced;
  }
}

/** `payload` cut to fit, as JSON text, or null; only what `notification` brought is cut. */
function fit(payload: JsonObject, notification: Notification): string | null {
  const eventContent = ownsContent(notification);
  const cuttable = (path: JsonPath): boolean => {
    const top = String(path[0]);
    if (path.length === 1) {
      // A key the event did not set holds default_payload's value: the app's, never cut.
      const value = notification[top as keyof Notification];
      return CUTTABLE_FIELDS.has(top) && typeof value === 'string' && value !== '';
    }
    return (
      eventContent && top === 'content' && !(path.length === 2 && NEVER_CUT_CONTENT.has(String(path[1])))
    );
  };
  const fitted = fitJson(payload, MAX_PLAINTEXT_BYTES, cuttable);
  if (fitted === null) return null;
  // Sygnal's payload carries only non-empty fields: a field cut to nothing goes (it only shrinks).
  for (const [key, value] of Object.entries(fitted)) {
    if (value === '' && payload[key] !== '') delete fitted[key];
  }
  return JSON.stringify(fitted);
}
