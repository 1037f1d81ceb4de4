/**
 * What each APNs answer means for the pushkey (REFERENCE §4), after Apple's "Handling notification
 * responses from APNs":
 * https://developer.apple.com/documentation/usernotifications/handling-notification-responses-from-apns
 *
 *   200                         delivered
 *   token errors (table below)  rejected: the homeserver deletes the pusher
 *   429, 5xx                    temporary: the dispatcher retries within the request budget
 *   403 ExpiredProviderToken    renew the JWT and retry once (the provider does this)
 *   any other status            permanent: our configuration or payload is wrong; 502, loud log
 */

/** (status, reason) pairs that mean the device token is dead, as in Sygnal's TOKEN_ERRORS. */
const TOKEN_ERRORS: ReadonlySet<string> = new Set([
  // The token is malformed, or not a token of this environment (sandbox vs production).
  '400 BadDeviceToken',
  // The token belongs to another app (or the topic is misconfigured: then every client must
  // re-register, which is what rejecting makes them do).
  '400 DeviceTokenNotForTopic',
  '400 TopicDisallowed',
  // The app was uninstalled or the user revoked notifications.
  '410 Unregistered',
  // "The device token has expired" (Apple, 2023+); Sygnal predates it.
  '410 ExpiredToken',
]);

export type ApnsVerdict =
  | { kind: 'delivered' }
  | { kind: 'rejected' }
  | { kind: 'temporary' }
  | { kind: 'renew-token' }
  | { kind: 'permanent' };

export function classifyApnsAnswer(status: number, reason: string): ApnsVerdict {
  if (status === 200) return { kind: 'delivered' };
  if (TOKEN_ERRORS.has(`${status} ${reason}`)) return { kind: 'rejected' };
  if (status === 403 && reason === 'ExpiredProviderToken') return { kind: 'renew-token' };
  // TooManyRequests (one token pushed too often), TooManyProviderTokenUpdates, InternalServerError,
  // ServiceUnavailable, Shutdown: all pass with time.
  if (status === 429 || (status >= 500 && status < 600)) return { kind: 'temporary' };
  return { kind: 'permanent' };
}

/** Apple's error body is `{"reason": "...", "timestamp": ...}`; anything else means no reason. */
export function reasonOf(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'reason' in parsed &&
      typeof parsed.reason === 'string'
    ) {
      return parsed.reason;
    }
  } catch {
    // not JSON: no reason
  }
  return '';
}
