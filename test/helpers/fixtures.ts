/** The spec's example notification ("Major Tom"), as Sygnal's tests use it, and device builders. */

export const EXAMPLE_EVENT_ID = '$qTOWWTEL48yPm3uT-gdNhFcoHxfKbZuqRVnnWWSkGBs';
export const EXAMPLE_ROOM_ID = '!slw48wfj34rtnrf:example.com';

export interface TestDevice {
  app_id: string;
  pushkey: string;
  pushkey_ts?: number;
  data?: Record<string, unknown> | null;
  tweaks?: Record<string, unknown>;
}

export function device(appId: string, pushkey: string, extra: Partial<TestDevice> = {}): TestDevice {
  return { app_id: appId, pushkey, pushkey_ts: 12345678, data: {}, tweaks: { sound: 'bing' }, ...extra };
}

/** The notification from the spec's POST /_matrix/push/v1/notify example. */
export function exampleNotification(devices: TestDevice[], overrides: Record<string, unknown> = {}) {
  return {
    notification: {
      id: '',
      event_id: EXAMPLE_EVENT_ID,
      room_id: EXAMPLE_ROOM_ID,
      type: 'm.room.message',
      sender: '@exampleuser:matrix.org',
      sender_display_name: 'Major Tom',
      room_name: 'Mission Control',
      room_alias: '#exampleroom:matrix.org',
      prio: 'high',
      content: { msgtype: 'm.text', body: "I'm floating in a most peculiar way." },
      counts: { unread: 2, missed_calls: 1 },
      devices,
      ...overrides,
    },
  };
}

/** Synapse's badge-only update: no event_id, `type: null`, the legacy empty `id`. */
export function badgeOnlyNotification(devices: TestDevice[], unread: number) {
  return { notification: { id: '', type: null, sender: '', counts: { unread }, devices } };
}
