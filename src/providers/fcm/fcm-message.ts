/**
 * The FCM HTTP v1 message for one device, as a pure function (REFERENCE §5). The `data` block is
 * built exactly as Sygnal's `GcmPushkin._build_data` builds it for `api_version: v1`, so apps that
 * parse Sygnal's pushes keep working, with Herald's fixes:
 * - a count of 0 is sent (Sygnal drops it, so an Android badge never resets);
 * - every `data` value is a string: non-string `default_payload` values are JSON-encoded
 *   (FCM refuses the whole message otherwise: `data` is a map<string, string>,
 *   https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages#Message);
 * - the data is kept within FCM's 4096-byte payload limit by cutting the longest display fields
 *   first (https://firebase.google.com/docs/cloud-messaging/concept-options#notifications_and_data_messages);
 * - `fcm_options` is copied, never mutated (Sygnal's shallow copy leaks `android.priority` between pushes).
 */
import { type Device, isObject, type JsonObject, type Notification } from '../../matrix/notification.ts';
import { cutUtf8, fitJson, type JsonPath } from '../../payload/fit-json.ts';

/** Sygnal's MAX_BYTES_PER_FIELD: each notification string is cut to this many UTF-8 bytes. */
export const FCM_MAX_BYTES_PER_FIELD = 1024;
/** FCM's limit on a message's payload. Herald keeps the compact JSON of `data` within it. */
export const FCM_MAX_DATA_BYTES = 4096;

/** The notification's fields copied into `data`, in Sygnal's order (content is flattened below). */
const NOTIFICATION_FIELDS = [
  'event_id',
  'type',
  'sender',
  'room_name',
  'room_alias',
  'membership',
  'sender_display_name',
] as const;

/** Display text an app shows but never uses as a key: cut first when the data is too large. */
const DISPLAY_FIELDS = new Set(['room_name', 'room_alias', 'sender_display_name']);
/** Identifiers the app uses to fetch the event or set a badge: never cut. */
const IDENTIFIER_FIELDS = new Set(['event_id', 'room_id', 'type', 'prio', 'unread', 'missed_calls']);

export interface FcmMessageOptions {
  /** The app's `fcm_options`: the base of every message (read only). */
  readonly fcmOptions: JsonObject;
  readonly sendBadgeCounts: boolean;
}

export interface FcmMessage {
  message: JsonObject & { data: Record<string, string>; token: string };
}

export type FcmBuildResult =
  | { kind: 'message'; body: FcmMessage }
  /** Nothing worth sending: no room_id, no event_id and no counts (Sygnal discards these too). */
  | { kind: 'nothing'; reason: string }
  /**
   * No push to this device can ever work: `default_payload` alone is over the limit even with every
   * cuttable value emptied, or a value cannot be JSON-encoded. The pushkey is rejected, as Web Push does.
   */
  | { kind: 'unusable'; reason: string }
  /** This notification's identifiers and `default_payload` together are over the limit (another may fit). */
  | { kind: 'too_large'; reason: string };

/** A `data` value: strings as they are, anything else JSON-encoded; undefined if it cannot be. */
function asDataString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    // A value nested deeper than the stack allows (RangeError): no push can carry it.
    return undefined;
  }
}

/** `default_payload` as `data` entries, or null when a value cannot be encoded. */
function payloadData(defaultPayload: JsonObject): Record<string, string> | null {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(defaultPayload)) {
    if (value === undefined) continue;
    const text = asDataString(value);
    if (text === undefined) return null;
    data[key] = text;
  }
  return data;
}

/** The `data` map in Sygnal's order, before the size limit; null when there is nothing to send. */
export function buildFcmData(
  notification: Notification,
  defaultPayload: JsonObject,
  sendBadgeCounts: boolean,
): Record<string, string> | null {
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(defaultPayload)) {
    const text = value === undefined ? undefined : asDataString(value);
    if (text !== undefined) data[key] = text;
  }
  for (const field of NOTIFICATION_FIELDS) {
    const value = notification[field];
    if (value !== undefined) data[field] = cutUtf8(value, FCM_MAX_BYTES_PER_FIELD);
  }
  if (notification.content !== undefined) {
    // Sygnal puts `content` in and flattens it, so a default_payload key "content" does not survive.
    delete data.content;
    for (const [key, value] of Object.entries(notification.content)) {
      if (typeof value === 'string') data[`content_${key}`] = cutUtf8(value, FCM_MAX_BYTES_PER_FIELD);
    }
  }
  if (notification.room_id !== undefined) {
    data.room_id = cutUtf8(notification.room_id, FCM_MAX_BYTES_PER_FIELD);
  }
  data.prio = notification.prio === 'low' ? 'normal' : 'high';

  const counts: Record<string, string> = {};
  if (sendBadgeCounts) {
    // Herald: 0 is sent too (Sygnal's `if n.counts.unread:` drops it and the badge never clears).
    if (notification.counts.unread !== undefined) counts.unread = String(notification.counts.unread);
    if (notification.counts.missed_calls !== undefined) {
      counts.missed_calls = String(notification.counts.missed_calls);
    }
  }
  if (!data.room_id && !data.event_id && Object.keys(counts).length === 0) return null;
  return Object.assign(data, counts);
}

function displayOnly(path: JsonPath): boolean {
  const key = String(path[0]);
  return path.length === 1 && (DISPLAY_FIELDS.has(key) || key.startsWith('content_'));
}

function anythingButIdentifiers(path: JsonPath): boolean {
  return path.length === 1 && !IDENTIFIER_FIELDS.has(String(path[0]));
}

/**
 * Cuts `data` to FCM_MAX_DATA_BYTES of compact JSON: display text first (longest first), and only if
 * that is not enough any other non-identifier value (a huge default_payload).
 */
export function fitFcmData(data: Record<string, string>): Record<string, string> | null {
  return (
    fitJson(data, FCM_MAX_DATA_BYTES, displayOnly) ??
    fitJson(data, FCM_MAX_DATA_BYTES, anythingButIdentifiers)
  );
}

/** `android` from fcm_options plus the priority derived from `prio` (a fresh object). */
function androidConfig(fcmOptions: JsonObject, prio: Notification['prio']): JsonObject {
  const base = isObject(fcmOptions.android) ? structuredClone(fcmOptions.android) : {};
  return { ...base, priority: prio === 'low' ? 'normal' : 'high' };
}

/** The request body for POST /v1/projects/<project_id>/messages:send. */
export function buildFcmMessage(
  notification: Notification,
  device: Pick<Device, 'pushkey' | 'data'>,
  options: FcmMessageOptions,
): FcmBuildResult {
  // The dispatcher already rejects a default_payload that is present but not an object.
  const defaultPayload = isObject(device.data.default_payload) ? device.data.default_payload : {};
  const payloadOnly = payloadData(defaultPayload);
  if (payloadOnly === null) {
    return { kind: 'unusable', reason: 'data.default_payload has a value that cannot be JSON-encoded' };
  }
  const data = buildFcmData(notification, defaultPayload, options.sendBadgeCounts);
  if (data === null) {
    return {
      kind: 'nothing',
      reason: 'no room_id, event_id or counts to send (check send_badge_counts if badges were expected)',
    };
  }
  const fitted = fitFcmData(data);
  if (fitted === null) {
    // Only a default_payload that cannot fit on its own makes every push fail (Web Push rejects the
    // same case); otherwise it is this notification's identifiers that tip it over the limit.
    if (fitJson(payloadOnly, FCM_MAX_DATA_BYTES, anythingButIdentifiers) === null) {
      return {
        kind: 'unusable',
        reason: `data.default_payload alone exceeds FCM's ${FCM_MAX_DATA_BYTES}-byte data limit`,
      };
    }
    return {
      kind: 'too_large',
      reason: `the notification's identifiers with default_payload exceed ${FCM_MAX_DATA_BYTES} bytes`,
    };
  }
  const base = structuredClone(options.fcmOptions);
  return {
    kind: 'message',
    body: {
      message: {
        ...base,
        data: fitted,
        android: androidConfig(options.fcmOptions, notification.prio),
        token: device.pushkey,
      },
    },
  };
}
