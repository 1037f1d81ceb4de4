/**
 * The Push Gateway API's request, as the spec defines it, and the one function that checks
 * untrusted JSON against it. Everything past parseNotifyBody() may trust these types.
 *
 * Spec: https://spec.matrix.org/latest/push-gateway-api/#post_matrixpushv1notify
 * Homeserver quirks tolerated here are listed in shared REFERENCE §1.
 */
import { GatewayError } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

export interface Counts {
  unread?: number;
  missed_calls?: number;
}

export interface Device {
  app_id: string;
  pushkey: string;
  /** Seconds since the epoch when the pushkey was last updated (Construct sends milliseconds). */
  pushkey_ts: number;
  data: JsonObject;
  tweaks: JsonObject;
}

export interface Notification {
  event_id?: string;
  room_id?: string;
  type?: string;
  sender?: string;
  sender_display_name?: string;
  room_name?: string;
  room_alias?: string;
  user_is_target?: boolean;
  membership?: string;
  prio: 'high' | 'low';
  content?: JsonObject;
  counts: Counts;
  devices: Device[];
}

const STRING_FIELDS = [
  'event_id',
  'room_id',
  'type',
  'sender',
  'sender_display_name',
  'room_name',
  'room_alias',
  'membership',
] as const;

function badJson(message: string): GatewayError {
  return new GatewayError('M_BAD_JSON', message);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Deepest nesting of arrays and objects accepted. Real events nest a handful of levels; thousands
 * of levels would overflow the stack later in JSON.stringify or structuredClone (a 500), so such a
 * body is refused up front.
 */
export const MAX_JSON_DEPTH = 64;

/** The nesting depth of a parsed JSON value, measured without recursion. */
function jsonDepth(root: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(value)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** Strict: invalid UTF-8 throws instead of becoming U+FFFD. Stateless between non-streaming calls. */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes the raw body: strict UTF-8 and strict JSON (JSON.parse already refuses NaN/Infinity). */
export function decodeJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw new GatewayError('M_NOT_JSON', 'The body is not valid UTF-8.');
  }
  if (text.trim() === '') throw new GatewayError('M_NOT_JSON', 'The body is empty; expected a JSON object.');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new GatewayError('M_NOT_JSON', `The body is not valid JSON: ${(error as Error).message}`);
  }
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new GatewayError(
      'M_BAD_JSON',
      `The body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`,
    );
  }
  return value;
}

/** A non-negative whole count; anything else is a client bug worth a 400. */
function parseCount(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw badJson(`${path} must be a non-negative integer, got ${describe(value)}.`);
  }
  return value;
}

/**
 * palpo sends tweaks as the push rule's action list, `[{"set_tweak": "sound", "value": "default"}]`;
 * everyone else sends an object. Normalise to the object form.
 */
function parseTweaks(value: unknown, path: string): JsonObject {
  if (value === undefined || value === null) return {};
  if (isObject(value)) return value;
  if (Array.isArray(value)) {
    const tweaks: JsonObject = {};
    for (const [i, action] of value.entries()) {
      if (!isObject(action) || typeof action.set_tweak !== 'string') {
        throw badJson(`${path}[${i}] must be an object with a string "set_tweak".`);
      }
      // A set_tweak without a value means `true` (spec: push rule actions, "highlight").
      tweaks[action.set_tweak] = action.value === undefined ? true : action.value;
    }
    return tweaks;
  }
  throw badJson(`${path} must be an object, got ${describe(value)}.`);
}

function parseDevice(value: unknown, index: number): Device {
  const path = `notification.devices[${index}]`;
  if (!isObject(value)) throw badJson(`${path} must be an object, got ${describe(value)}.`);
  if (typeof value.app_id !== 'string' || value.app_id === '') {
    throw badJson(`${path}.app_id must be a non-empty string.`);
  }
  if (typeof value.pushkey !== 'string' || value.pushkey === '') {
    throw badJson(`${path}.pushkey must be a non-empty string.`);
  }
  let pushkeyTs = 0;
  if (value.pushkey_ts !== undefined && value.pushkey_ts !== null) {
    if (typeof value.pushkey_ts !== 'number' || !Number.isFinite(value.pushkey_ts) || value.pushkey_ts < 0) {
      throw badJson(`${path}.pushkey_ts must be a non-negative number.`);
    }
    // Construct sends milliseconds; anything past the year 33658 in seconds is surely milliseconds.
    pushkeyTs = value.pushkey_ts > 1e12 ? Math.floor(value.pushkey_ts / 1000) : value.pushkey_ts;
  }
  let data: JsonObject = {};
  if (value.data !== undefined && value.data !== null) {
    if (!isObject(value.data)) throw badJson(`${path}.data must be an object, got ${describe(value.data)}.`);
    data = value.data;
  }
  return {
    app_id: value.app_id,
    pushkey: value.pushkey,
    pushkey_ts: pushkeyTs,
    data,
    tweaks: parseTweaks(value.tweaks, `${path}.tweaks`),
  };
}

/**
 * Checks a decoded notify body and returns the typed notification. Unknown fields are ignored
 * (homeservers differ); a known field of the wrong type is a 400 naming the field; a `null`
 * optional field is treated as absent.
 */
export function parseNotifyBody(body: unknown): Notification {
  if (!isObject(body)) throw badJson(`The body must be a JSON object, got ${describe(body)}.`);
  const raw = body.notification;
  if (!isObject(raw)) throw badJson(`"notification" must be an object, got ${describe(raw)}.`);

  if (!Array.isArray(raw.devices)) {
    throw badJson(`notification.devices must be a list, got ${describe(raw.devices)}.`);
  }
  if (raw.devices.length === 0) throw badJson('notification.devices must not be empty.');
  const devices = raw.devices.map(parseDevice);

  const notification: Notification = { prio: 'high', counts: {}, devices };
  for (const field of STRING_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      throw badJson(`notification.${field} must be a string, got ${describe(value)}.`);
    }
    notification[field] = value;
  }
  // Synapse's badge-only updates carry `"type": null`, `"sender": ""` and a legacy `"id": ""`;
  // an empty event_id or type means absent, so they stay badge-only.
  if (notification.event_id === '') delete notification.event_id;
  if (notification.type === '') delete notification.type;

  if (raw.user_is_target !== undefined && raw.user_is_target !== null) {
    if (typeof raw.user_is_target !== 'boolean') {
      throw badJson(`notification.user_is_target must be a boolean, got ${describe(raw.user_is_target)}.`);
    }
    notification.user_is_target = raw.user_is_target;
  }
  if (raw.prio !== undefined && raw.prio !== null) {
    if (raw.prio !== 'high' && raw.prio !== 'low') {
      throw badJson('notification.prio must be "high" or "low".');
    }
    notification.prio = raw.prio;
  }
  if (raw.content !== undefined && raw.content !== null) {
    if (!isObject(raw.content)) {
      throw badJson(`notification.content must be an object, got ${describe(raw.content)}.`);
    }
    notification.content = raw.content;
  }
  if (raw.counts !== undefined && raw.counts !== null) {
    if (!isObject(raw.counts))
      throw badJson(`notification.counts must be an object, got ${describe(raw.counts)}.`);
    const unread = parseCount(raw.counts.unread, 'notification.counts.unread');
    const missedCalls = parseCount(raw.counts.missed_calls, 'notification.counts.missed_calls');
    if (unread !== undefined) notification.counts.unread = unread;
    if (missedCalls !== undefined) notification.counts.missed_calls = missedCalls;
  }
  return notification;
}

/** The pusher's `data.default_payload`: absent is fine, present-but-not-an-object rejects the device. */
export function defaultPayloadOf(device: Device): { ok: true; payload: JsonObject } | { ok: false } {
  const value = device.data.default_payload;
  if (value === undefined || value === null) return { ok: true, payload: {} };
  if (!isObject(value)) return { ok: false };
  return { ok: true, payload: value };
}

export { isObject };
