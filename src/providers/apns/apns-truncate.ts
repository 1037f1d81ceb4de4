/**
 * Making an APNs payload fit Apple's 4096-byte limit ("The maximum size allowed for a notification
 * payload is 4096 bytes", Apple: "Sending notification requests to APNs").
 *
 * Only the texts a user reads are cut, as in Sygnal's apnstruncate.py: `aps.alert` when it is a
 * string, `aps.alert.body`, and each `aps.alert.loc-args[i]`. Sygnal removes one character at a time
 * from the longest of them and re-serialises the whole payload each time (quadratic: 0.67 s of CPU
 * for a 32 KB message). Herald reaches the same shape in one pass: it computes the "water level"
 * that every text longer than it is cut down to, so the longest texts lose the most and short ones
 * are untouched. Sizes are the bytes the text takes inside the UTF-8 JSON actually sent, cuts fall
 * on character boundaries, and a cut text ends in "…".
 */
import type { JsonObject } from '../../matrix/notification.ts';
import { isObject } from '../../matrix/notification.ts';
import { cutToEncodedBytes, jsonStringBytes } from '../../payload/fit-json.ts';

/** Apple's limit for regular (non-VoIP) notifications. */
export const APNS_MAX_PAYLOAD_BYTES = 4096;

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = Buffer.byteLength(ELLIPSIS);

interface Choppable {
  parent: Record<string | number, unknown>;
  key: string | number;
  /** Bytes of the text inside the JSON string, quotes excluded. */
  bytes: number;
}

/** The texts Sygnal may cut, in a payload it did not have to copy. */
function choppables(payload: JsonObject): Choppable[] {
  const out: Choppable[] = [];
  const add = (parent: Record<string | number, unknown>, key: string | number) => {
    const value = parent[key];
    if (typeof value === 'string') out.push({ parent, key, bytes: jsonStringBytes(value) - 2 });
  };
  const aps = payload.aps;
  if (!isObject(aps)) return out;
  if (typeof aps.alert === 'string') add(aps, 'alert');
  else if (isObject(aps.alert)) {
    add(aps.alert, 'body');
    const locArgs = aps.alert['loc-args'];
    if (Array.isArray(locArgs))
      for (let i = 0; i < locArgs.length; i++) add(locArgs as unknown[] as never, i);
  }
  return out;
}

/**
 * The largest level L (in bytes) such that cutting every text longer than L down to L frees at
 * least `overflow` bytes, or null when even cutting all of them to nothing is not enough.
 * `sizes` is sorted longest first.
 */
function waterLevel(sizes: readonly number[], overflow: number): number | null {
  let prefix = 0;
  for (let k = 1; k <= sizes.length; k++) {
    prefix += sizes[k - 1]!;
    const next = sizes[k] ?? 0;
    // With the k longest cut to `next`, this much is freed; once enough, the level lies in [next, s_k].
    if (prefix - k * next >= overflow) return Math.floor((prefix - overflow) / k);
  }
  return null;
}

/**
 * The serialised payload, cut to fit `maxBytes`, or null when it cannot be made to fit.
 * Returns the compact JSON text that must be sent as is.
 */
export function truncateApnsPayload(payload: JsonObject, maxBytes = APNS_MAX_PAYLOAD_BYTES): string | null {
  const text = JSON.stringify(payload);
  const size = Buffer.byteLength(text);
  if (size <= maxBytes) return text;

  const copy = structuredClone(payload);
  const fields = choppables(copy).sort((a, b) => b.bytes - a.bytes);
  const level = waterLevel(
    fields.map((f) => f.bytes),
    size - maxBytes,
  );
  if (level === null) return null;
  for (const field of fields) {
    if (field.bytes <= level) break;
    const value = field.parent[field.key] as string;
    // A cut text is at most `level` bytes, the ellipsis included; too small a level leaves nothing.
    field.parent[field.key] =
      level > ELLIPSIS_BYTES ? cutToEncodedBytes(value, level - ELLIPSIS_BYTES) + ELLIPSIS : '';
  }
  const fitted = JSON.stringify(copy);
  // Cutting at a character boundary only ever frees more than planned, so this holds; checked anyway.
  return Buffer.byteLength(fitted) <= maxBytes ? fitted : null;
}
