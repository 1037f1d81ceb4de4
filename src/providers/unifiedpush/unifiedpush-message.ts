/**
 * What a UnifiedPush endpoint receives: the notify body with `devices` removed (other devices'
 * pushkeys are not the receiver's business), compact, at most 4096 bytes (the UnifiedPush message
 * limit), made to fit by cutting display strings and content, never identifiers.
 */
import type { Notification } from '../../matrix/notification.ts';
import { fitJson, type JsonPath } from '../../payload/fit-json.ts';

export const UNIFIEDPUSH_MAX_BYTES = 4096;

const NEVER_CUT = new Set(['event_id', 'room_id', 'type', 'prio', 'membership', 'sender']);

function cuttable(path: JsonPath): boolean {
  return !(path.length === 2 && NEVER_CUT.has(String(path[1])));
}

/** The body to POST, or null when it cannot be made to fit. */
export function buildUnifiedPushBody(notification: Notification): string | null {
  const { devices: _devices, counts, ...rest } = notification;
  const message = { notification: { ...rest, ...(Object.keys(counts).length > 0 ? { counts } : {}) } };
  const fitted = fitJson(message, UNIFIEDPUSH_MAX_BYTES, cuttable);
  return fitted === null ? null : JSON.stringify(fitted);
}
