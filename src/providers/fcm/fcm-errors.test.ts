/** Table tests of FCM's answer table (REFERENCE §5) on real error bodies. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFcmResponse, parseFcmError, reasonLabel } from './fcm-errors.ts';

const FCM = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';

function body(code: number, status: string, message: string, details: unknown[] = []): string {
  return JSON.stringify({ error: { code, message, status, details } });
}

describe('classifyFcmResponse', () => {
  const table: [string, number, string, string][] = [
    ['200', 200, '{"name":"projects/p/messages/1"}', 'delivered'],
    [
      '404 UNREGISTERED',
      404,
      body(404, 'NOT_FOUND', 'x', [{ '@type': FCM, errorCode: 'UNREGISTERED' }]),
      'rejected',
    ],
    [
      '404 NOT_FOUND without details',
      404,
      body(404, 'NOT_FOUND', 'Requested entity was not found.'),
      'rejected',
    ],
    // Not FCM speaking (a wrong endpoint, a front proxy): never delete pushers on its word.
    ['404 with an empty body', 404, '', 'permanent'],
    ['404 with an HTML body', 404, '<html><body>Not Found</body></html>', 'permanent'],
    ['404 with another JSON body', 404, '{"error":"not found"}', 'permanent'],
    [
      '400 on message.token',
      400,
      body(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [
        { '@type': FCM, errorCode: 'INVALID_ARGUMENT' },
        { '@type': BAD_REQUEST, fieldViolations: [{ field: 'message.token', description: 'bad' }] },
      ]),
      'rejected',
    ],
    [
      '400 naming the token in the message',
      400,
      body(400, 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token'),
      'rejected',
    ],
    [
      '400 on another field',
      400,
      body(400, 'INVALID_ARGUMENT', 'x', [
        { '@type': BAD_REQUEST, fieldViolations: [{ field: 'message.data[0].value', description: 'bad' }] },
      ]),
      'permanent',
    ],
    ['400 with an HTML body', 400, '<html>bad</html>', 'permanent'],
    ['401 UNAUTHENTICATED', 401, body(401, 'UNAUTHENTICATED', 'x'), 'permanent'],
    [
      '401 THIRD_PARTY_AUTH_ERROR',
      401,
      body(401, 'UNAUTHENTICATED', 'x', [{ '@type': FCM, errorCode: 'THIRD_PARTY_AUTH_ERROR' }]),
      'permanent',
    ],
    [
      '403 SENDER_ID_MISMATCH',
      403,
      body(403, 'PERMISSION_DENIED', 'x', [{ '@type': FCM, errorCode: 'SENDER_ID_MISMATCH' }]),
      'permanent',
    ],
    // A config problem must never delete pushers, even if it came with a 404.
    [
      '404 SENDER_ID_MISMATCH',
      404,
      body(404, 'NOT_FOUND', 'x', [{ '@type': FCM, errorCode: 'SENDER_ID_MISMATCH' }]),
      'permanent',
    ],
    [
      '429 QUOTA_EXCEEDED',
      429,
      body(429, 'RESOURCE_EXHAUSTED', 'x', [{ '@type': FCM, errorCode: 'QUOTA_EXCEEDED' }]),
      'temporary',
    ],
    ['500 INTERNAL', 500, body(500, 'INTERNAL', 'x'), 'temporary'],
    ['502 from a proxy', 502, '<html>Bad Gateway</html>', 'temporary'],
    [
      '503 UNAVAILABLE',
      503,
      body(503, 'UNAVAILABLE', 'x', [{ '@type': FCM, errorCode: 'UNAVAILABLE' }]),
      'temporary',
    ],
    ['413', 413, '', 'permanent'],
  ];
  for (const [name, status, text, action] of table) {
    it(`${name} → ${action}`, () => {
      assert.equal(classifyFcmResponse(status, parseFcmError(text)).action, action);
    });
  }
});

describe('reasonLabel', () => {
  it('keeps metric labels bounded', () => {
    assert.equal(
      reasonLabel(
        parseFcmError(
          body(403, 'PERMISSION_DENIED', 'x', [{ '@type': FCM, errorCode: 'SENDER_ID_MISMATCH' }]),
        ),
      ),
      'SENDER_ID_MISMATCH',
    );
    assert.equal(reasonLabel(parseFcmError(body(500, 'SOMETHING_NEW_123', 'x'))), 'other');
    assert.equal(reasonLabel(parseFcmError('not json')), '');
  });
});
