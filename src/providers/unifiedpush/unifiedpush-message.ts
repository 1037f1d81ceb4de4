/**
 * What a UnifiedPush endpoint receives: the notify body with `devices` removed (other devices'
 * pushkeys are not the receiver's business), compact, at most 4096 bytes (the UnifiedPush message
 * limit). It is made to fit by cutting display strings and content text first; an event whose
 * content still does not fit (thousands of keys or numbers, which only strings could be cut from)
 * is sent without its content, and at last with only what a client needs to fetch the event.
 */
import type { Notification } from '../../matrix/notification.ts';
import { fitJson, type JsonPath } from '../../payload/fit-json.ts';

export const UNIFIEDPUSH_MAX_BYTES = 4096;

const NEVER_CUT = new Set(['event_id', 'room_id', 'type', 'prio', 'membership', 'sender']);

function cuttable(path: JsonPath): boolean {
  return !(path.length === 2 && NEVER_CUT.has(String(path[1])));
}

/** The body to POST, or null when not even the identifiers fit. */
export function buildUnifiedPushBody(notification: Notification): string | null {
  const { devices: _devices, counts, ...rest } = notification;
  const withCounts = Object.keys(counts).length > 0 ? { counts } : {};
  const { content: _content, ...withoutContent } = rest;
  const minimal = {
    ...(rest.event_id !== undefined ? { event_id: rest.event_id } : {}),
    ...(rest.room_id !== undefined ? { room_id: rest.room_id } : {}),
    prio: rest.prio,
  };
  for (const notificationPart of [rest, withoutContent, minimal]) {
    const fitted = fitJson(
      { notification: { ...notificationPart, ...withCounts } },
      UNIFIEDPUSH_MAX_BYTES,
      cuttable,
    );
    if (fitted !== null) return JSON.stringify(fitted);
  }
  return null;
}
