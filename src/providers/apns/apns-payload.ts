/**
 * The APNs payload for one device, exactly as Sygnal 0.17 builds it (`ApnsPushkin._get_payload_*`)
 * so that existing iOS apps, which parse Sygnal's payloads, keep working. Pure: no I/O, no config
 * object, table-tested in apns-payload.test.ts. REFERENCE §4 is the specification.
 *
 * Apple's payload reference:
 * https://developer.apple.com/documentation/usernotifications/generating-a-remote-notification
 */
import type { JsonObject, Notification } from '../../matrix/notification.ts';
import { isObject } from '../../matrix/notification.ts';

/** Sygnal cuts the sender and room names to this many characters (MAX_FIELD_LENGTH). */
export const MAX_FIELD_LENGTH = 1024;

export interface PayloadOptions {
  /** `send_badge_counts` (default true). */
  sendBadgeCounts: boolean;
  /** The pusher's `data.default_payload` (already checked to be an object). */
  defaultPayload: JsonObject;
  /** The device's `tweaks.sound` when `soundName` accepts it: Herald puts it in `aps.sound`. */
  sound: string | undefined;
}

/**
 * The longest `tweaks.sound` put into `aps.sound`, in UTF-8 bytes. Apple's `sound` is the name of a
 * sound file in the app bundle or Library/Sounds (or "default"), so a real one is short; a longer
 * value would crowd the message out of the 4 KB payload, or not fit at all and fail every push.
 */
export const MAX_SOUND_BYTES = 256;

/** `tweaks.sound` when it can be an APNs sound name (a string of at most 256 bytes), else undefined. */
export function soundName(tweak: unknown): string | undefined {
  if (typeof tweak !== 'string') return undefined;
  return Buffer.byteLength(tweak) <= MAX_SOUND_BYTES ? tweak : undefined;
}

/** Sygnal's localisation keys: the app's Localizable.strings has one entry for each. */
export interface LocAlert {
  locKey: string;
  locArgs: string[];
}

/** The payload to send, or null when there is nothing to send (the push is dropped). */
export function buildApnsPayload(n: Notification, options: PayloadOptions): JsonObject | null {
  if (n.event_id !== undefined && n.type === undefined) return eventIdOnlyPayload(n, options);
  return fullPayload(n, options);
}

/**
 * `event_id_only` pushers: the app fetches the event itself. A copy of `default_payload` plus the
 * ids and, with badges on, the counts that were sent; no `aps` beyond what default_payload has.
 */
function eventIdOnlyPayload(n: Notification, options: PayloadOptions): JsonObject {
  const payload: JsonObject = structuredClone(options.defaultPayload);
  if (n.room_id) payload.room_id = n.room_id;
  if (n.event_id) payload.event_id = n.event_id;
  if (options.sendBadgeCounts) {
    if (n.counts.unread !== undefined) payload.unread_count = n.counts.unread;
    if (n.counts.missed_calls !== undefined) payload.missed_calls = n.counts.missed_calls;
  }
  return payload;
}

/**
 * Full payloads (and badge-only updates, which have no `type`): default_payload (full only), the
 * loc-key/loc-args from the table, the badge, and the ids when there is an alert.
 */
function fullPayload(n: Notification, options: PayloadOptions): JsonObject | null {
  const alert = locAlert(n);
  // The spec allows zero counts to be omitted, so an omitted count is 0; with badges on, every
  // payload carries the badge, 0 included (which clears the app icon's badge).
  const badge = options.sendBadgeCounts ? (n.counts.unread ?? 0) + (n.counts.missed_calls ?? 0) : undefined;
  if (alert === null && badge === undefined) return null;

  // Sygnal copies default_payload only when there is a `type`: a badge-only update ignores it.
  const payload: JsonObject = n.type !== undefined ? structuredClone(options.defaultPayload) : {};
  // A default_payload whose `aps` is not an object would crash Sygnal; Herald replaces it.
  if (!isObject(payload.aps)) payload.aps = {};
  const aps = payload.aps as JsonObject;
  if (alert !== null) {
    // Other alert keys of default_payload (title, …) survive; a string alert cannot hold a loc-key.
    if (!isObject(aps.alert)) aps.alert = {};
    const apsAlert = aps.alert as JsonObject;
    apsAlert['loc-key'] = alert.locKey;
    apsAlert['loc-args'] = alert.locArgs;
  }
  if (badge !== undefined) aps.badge = badge;
  // Herald: the pusher's sound tweak is honoured (Sygnal drops it); only for real alerts.
  if (alert !== null && options.sound !== undefined) aps.sound = options.sound;
  if (alert !== null && n.room_id) payload.room_id = n.room_id;
  if (alert !== null && n.event_id) payload.event_id = n.event_id;
  return payload;
}

/** The sender as shown: display name, else user id, else one space (Sygnal's placeholder). */
function fromDisplay(n: Notification): string {
  const from = n.sender_display_name || n.sender || ' ';
  return cutChars(from, MAX_FIELD_LENGTH);
}

/** The room as shown: its name, else its alias, else none. */
function roomDisplay(n: Notification): string | undefined {
  const room = n.room_name || n.room_alias;
  return room ? cutChars(room, MAX_FIELD_LENGTH) : undefined;
}

/** Python's `text[0:max]` counts code points, not UTF-16 units. */
function cutChars(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = 0;
  let count = 0;
  for (const char of text) {
    if (count === max) break;
    end += char.length;
    count++;
  }
  return text.slice(0, end);
}

/** The loc-key table of REFERENCE §4 (Sygnal `_get_payload_full`), or null for no alert. */
export function locAlert(n: Notification): LocAlert | null {
  const from = fromDisplay(n);
  switch (n.type) {
    case undefined:
      return null;
    case 'm.room.message':
    case 'm.room.encrypted':
      return messageAlert(n, from);
    case 'm.call.invite': {
      const offer = n.content?.offer;
      const sdp = isObject(offer) ? offer.sdp : undefined;
      const video = typeof sdp === 'string' && sdp.includes('m=video');
      return { locKey: video ? 'VIDEO_CALL_FROM_USER' : 'VOICE_CALL_FROM_USER', locArgs: [from] };
    }
    case 'm.room.member': {
      if (n.user_is_target !== true || n.membership !== 'invite') return null;
      const room = roomDisplay(n);
      return room === undefined
        ? { locKey: 'USER_INVITE_TO_CHAT', locArgs: [from] }
        : { locKey: 'USER_INVITE_TO_NAMED_ROOM', locArgs: [from, room] };
    }
    default:
      return { locKey: 'MSG_FROM_USER', locArgs: [from] };
  }
}

function messageAlert(n: Notification, from: string): LocAlert {
  const room = roomDisplay(n);
  const content = n.content;
  let body: string | undefined;
  let action: string | undefined;
  let image = false;
  // Sygnal needs both msgtype and body; an encrypted event has neither, so it gets no content.
  if (content !== undefined && 'msgtype' in content && typeof content.body === 'string') {
    if (content.msgtype === 'm.emote') action = content.body;
    else body = content.body;
    image = content.msgtype === 'm.image';
  }
  if (room !== undefined) {
    if (image) return { locKey: 'IMAGE_FROM_USER_IN_ROOM', locArgs: [from, body ?? '', room] };
    if (body) return { locKey: 'MSG_FROM_USER_IN_ROOM_WITH_CONTENT', locArgs: [from, room, body] };
    if (action) return { locKey: 'ACTION_FROM_USER_IN_ROOM', locArgs: [room, from, action] };
    return { locKey: 'MSG_FROM_USER_IN_ROOM', locArgs: [from, room] };
  }
  if (image) return { locKey: 'IMAGE_FROM_USER', locArgs: [from, body ?? ''] };
  if (body) return { locKey: 'MSG_FROM_USER_WITH_CONTENT', locArgs: [from, body] };
  if (action) return { locKey: 'ACTION_FROM_USER', locArgs: [from, action] };
  return { locKey: 'MSG_FROM_USER', locArgs: [from] };
}
