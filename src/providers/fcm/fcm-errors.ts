/**
 * What an FCM HTTP v1 answer means for the pushkey (REFERENCE §5). FCM answers errors as a
 * google.rpc.Status: `{"error": {"code", "message", "status", "details": [...]}}`, where the details
 * carry `google.firebase.fcm.v1.FcmError` (`errorCode`) and `google.rpc.BadRequest`
 * (`fieldViolations[].field`).
 *
 * Docs: https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode
 *       https://firebase.google.com/docs/cloud-messaging/manage-tokens#detect-invalid-token-responses-from-the-fcm-backend
 *       https://cloud.google.com/apis/design/errors#error_details
 */
import { isObject } from '../../matrix/notification.ts';

/** The FcmError codes FCM documents; anything else is reported as "other" in metrics. */
export const FCM_ERROR_CODES = [
  'UNSPECIFIED_ERROR',
  'INVALID_ARGUMENT',
  'UNREGISTERED',
  'SENDER_ID_MISMATCH',
  'QUOTA_EXCEEDED',
  'UNAVAILABLE',
  'INTERNAL',
  'THIRD_PARTY_AUTH_ERROR',
] as const;

export type FcmVerdict =
  | { action: 'delivered' }
  /** The token is dead: the homeserver deletes the pusher. */
  | { action: 'rejected'; reason: string }
  /** Worth retrying within the request budget. */
  | { action: 'temporary'; reason: string }
  /** Our config or our payload is wrong: 502 and a loud log, and never a rejection. */
  | { action: 'permanent'; reason: string };

export interface FcmErrorInfo {
  /** google.rpc.Status.status, e.g. "INVALID_ARGUMENT". */
  status: string | undefined;
  message: string | undefined;
  /** google.firebase.fcm.v1.FcmError.errorCode. */
  errorCode: string | undefined;
  /** google.rpc.BadRequest.fieldViolations[].field. */
  fields: string[];
}

/** Reads the google.rpc.Status error body; tolerant of anything (a proxy's HTML page, nothing). */
export function parseFcmError(body: string): FcmErrorInfo {
  const info: FcmErrorInfo = { status: undefined, message: undefined, errorCode: undefined, fields: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return info;
  }
  const error = isObject(parsed) ? parsed.error : undefined;
  if (!isObject(error)) return info;
  if (typeof error.status === 'string') info.status = error.status;
  if (typeof error.message === 'string') info.message = error.message;
  for (const detail of Array.isArray(error.details) ? error.details : []) {
    if (!isObject(detail) || typeof detail['@type'] !== 'string') continue;
    if (
      detail['@type'].endsWith('/google.firebase.fcm.v1.FcmError') &&
      typeof detail.errorCode === 'string'
    ) {
      info.errorCode = detail.errorCode;
    }
    if (detail['@type'].endsWith('/google.rpc.BadRequest') && Array.isArray(detail.fieldViolations)) {
      for (const violation of detail.fieldViolations) {
        if (isObject(violation) && typeof violation.field === 'string') info.fields.push(violation.field);
      }
    }
  }
  return info;
}

/** INVALID_ARGUMENT about the registration token rather than about our payload. */
function namesTheToken(info: FcmErrorInfo): boolean {
  if (info.fields.includes('message.token')) return true;
  return /not a valid FCM registration token/i.test(info.message ?? '');
}

/**
 * The answer table. Order matters: auth/config problems are checked before "dead token", so a
 * misconfigured project can never delete every user's pusher.
 */
export function classifyFcmResponse(status: number, info: FcmErrorInfo): FcmVerdict {
  const code = info.errorCode ?? info.status;
  const reason = code ?? `HTTP ${status}`;
  // 200: the message was accepted (the body is `{"name": "projects/…/messages/…"}`).
  if (status >= 200 && status < 300) return { action: 'delivered' };
  // SENDER_ID_MISMATCH (403): the token belongs to another Firebase project, i.e. our project_id or
  // service account is wrong. THIRD_PARTY_AUTH_ERROR (401): the APNs certificate/key uploaded to
  // Firebase is invalid. Both are the operator's to fix; rejecting would delete every pusher.
  // https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode
  if (code === 'SENDER_ID_MISMATCH' || code === 'THIRD_PARTY_AUTH_ERROR') {
    return { action: 'permanent', reason };
  }
  // 401 UNAUTHENTICATED / 403 PERMISSION_DENIED: our OAuth token or its IAM role is wrong.
  if (status === 401 || status === 403) return { action: 'permanent', reason };
  // 404 UNREGISTERED: the app was uninstalled or the token expired; "stop sending to it".
  // https://firebase.google.com/docs/cloud-messaging/manage-tokens#detect-invalid-token-responses-from-the-fcm-backend
  // Only FCM's own error body says so: an HTML 404 from a wrong `endpoint` or a front proxy would
  // otherwise make homeservers delete every pusher.
  if (code === 'UNREGISTERED' || (status === 404 && info.status === 'NOT_FOUND')) {
    return { action: 'rejected', reason: 'UNREGISTERED' };
  }
  if (status === 404) return { action: 'permanent', reason: `${reason} without FCM's error body` };
  if (status === 400) {
    // INVALID_ARGUMENT naming message.token: a malformed token that can never work. Herald
    // rejects it (Sygnal answers 502 forever, and the homeserver retries it forever).
    if (namesTheToken(info)) return { action: 'rejected', reason: 'INVALID_ARGUMENT: message.token' };
    // Any other 400 is our payload's fault: retrying the same body cannot help.
    return { action: 'permanent', reason };
  }
  // 429 QUOTA_EXCEEDED, 500 INTERNAL, 503 UNAVAILABLE: back off, honour Retry-After.
  // https://firebase.google.com/docs/cloud-messaging/scale-fcm#handling-retries
  if (status === 429 || status >= 500 || code === 'QUOTA_EXCEEDED' || code === 'UNAVAILABLE') {
    return { action: 'temporary', reason };
  }
  return { action: 'permanent', reason };
}

/** google.rpc.Code names (https://cloud.google.com/apis/design/errors#error_codes) FCM answers with. */
const RPC_STATUSES = [
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'NOT_FOUND',
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
  'UNAVAILABLE',
];

/** A bounded metric label for the reason (FCM's and google.rpc's codes, or "other"). */
export function reasonLabel(info: FcmErrorInfo): string {
  const code = info.errorCode ?? info.status;
  if (code === undefined) return '';
  return (FCM_ERROR_CODES as readonly string[]).includes(code) || RPC_STATUSES.includes(code)
    ? code
    : 'other';
}
