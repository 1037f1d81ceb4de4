/**
 * A fake FCM HTTP v1 endpoint: a TLS HTTP/2 server on port 0 (test/fixtures/tls/server.pem) that
 * checks each request the way FCM does and answers per pushkey, as scripted (Sygnal's TestPushkin
 * idea). Checks, in FCM's order: POST to /v1/projects/<project>/messages:send; a Bearer token the
 * fake OAuth server issued (else 401); a JSON body with message.token; every `data` value a string
 * (else 400, as FCM: `data` is map<string, string>); data within 4096 bytes (else 400).
 *
 * Scripted answers by pushkey prefix (error bodies as FCM sends them, google.rpc.Status with
 * FcmError and BadRequest details, https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode):
 *   unregistered…  404 NOT_FOUND, FcmError UNREGISTERED
 *   html404…       404 with an HTML page, as a front proxy or a wrong `endpoint` answers
 *   badtoken…      400 INVALID_ARGUMENT, BadRequest fieldViolations[message.token]
 *   notvalid…      400 INVALID_ARGUMENT, only the message "…not a valid FCM registration token"
 *   badpayload…    400 INVALID_ARGUMENT about message.android.ttl
 *   mismatch…      403 PERMISSION_DENIED, FcmError SENDER_ID_MISMATCH
 *   thirdparty…    401 UNAUTHENTICATED, FcmError THIRD_PARTY_AUTH_ERROR
 *   quota…         429 RESOURCE_EXHAUSTED, FcmError QUOTA_EXCEEDED, Retry-After: fake.retryAfter
 *   internal…      500 INTERNAL
 *   unavailable…   503 UNAVAILABLE, FcmError UNAVAILABLE
 *   flaky…         503 the first time a pushkey is seen, then 200
 *   hang…          never answers
 *   anything else  200 {"name": "projects/<project>/messages/<n>"}
 */
import { readFileSync } from 'node:fs';
import http2, { type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
const FCM = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';

export interface ReceivedPush {
  pushkey: string;
  path: string;
  authorization: string | undefined;
  /** The parsed request body. */
  body: { message: Record<string, unknown> & { data?: Record<string, unknown>; token?: string } };
  /** Which TCP+TLS session carried it (1, 2, …). */
  session: number;
}

export interface FakeFcm {
  /** https://127.0.0.1:<port>: the app's `endpoint`. */
  url: string;
  /** Requests that passed the checks (scripted answers included). */
  received: ReceivedPush[];
  /** Why requests were refused before their scripted answer. */
  refusals: string[];
  /** HTTP/2 sessions (connections) opened by clients so far. */
  sessions: number;
  /** Streams the client cancelled before an answer (RST_STREAM from the client). */
  cancelled: number;
  /** The Retry-After sent with 429 (seconds, as a string). */
  retryAfter: string;
  /** Send GOAWAY on every open session (a server restart). */
  goAwayAll(): void;
  close(): Promise<void>;
}

function rpcError(code: number, status: string, message: string, details: unknown[] = []) {
  return { error: { code, message, status, details } };
}

type Answer = { status: number; body: unknown; headers?: Record<string, string> } | 'hang';

function scripted(pushkey: string, fake: FakeFcm, seen: Set<string>, project: string): Answer {
  const invalidToken = 'The registration token is not a valid FCM registration token';
  if (pushkey.startsWith('unregistered')) {
    return {
      status: 404,
      body: rpcError(404, 'NOT_FOUND', 'Requested entity was not found.', [
        { '@type': FCM, errorCode: 'UNREGISTERED' },
      ]),
    };
  }
  if (pushkey.startsWith('html404')) {
    return { status: 404, body: '<html><body><h1>404 Not Found</h1></body></html>' };
  }
  if (pushkey.startsWith('badtoken')) {
    return {
      status: 400,
      body: rpcError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', [
        { '@type': FCM, errorCode: 'INVALID_ARGUMENT' },
        { '@type': BAD_REQUEST, fieldViolations: [{ field: 'message.token', description: invalidToken }] },
      ]),
    };
  }
  if (pushkey.startsWith('notvalid')) {
    return { status: 400, body: rpcError(400, 'INVALID_ARGUMENT', invalidToken) };
  }
  if (pushkey.startsWith('badpayload')) {
    return {
      status: 400,
      body: rpcError(400, 'INVALID_ARGUMENT', "Invalid value at 'message.android.ttl'", [
        { '@type': FCM, errorCode: 'INVALID_ARGUMENT' },
        { '@type': BAD_REQUEST, fieldViolations: [{ field: 'message.android.ttl', description: 'bad' }] },
      ]),
    };
  }
  if (pushkey.startsWith('mismatch')) {
    return {
      status: 403,
      body: rpcError(403, 'PERMISSION_DENIED', 'SenderId mismatch', [
        { '@type': FCM, errorCode: 'SENDER_ID_MISMATCH' },
      ]),
    };
  }
  if (pushkey.startsWith('thirdparty')) {
    return {
      status: 401,
      body: rpcError(401, 'UNAUTHENTICATED', 'Auth error from APNS or Web Push Service', [
        { '@type': FCM, errorCode: 'THIRD_PARTY_AUTH_ERROR' },
      ]),
    };
  }
  if (pushkey.startsWith('quota')) {
    return {
      status: 429,
      headers: { 'retry-after': fake.retryAfter },
      body: rpcError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', [
        { '@type': FCM, errorCode: 'QUOTA_EXCEEDED' },
      ]),
    };
  }
  if (pushkey.startsWith('internal')) {
    return { status: 500, body: rpcError(500, 'INTERNAL', 'Internal error encountered.') };
  }
  if (pushkey.startsWith('unavailable') || (pushkey.startsWith('flaky') && !seen.has(pushkey))) {
    seen.add(pushkey);
    return {
      status: 503,
      body: rpcError(503, 'UNAVAILABLE', 'The service is currently unavailable.', [
        { '@type': FCM, errorCode: 'UNAVAILABLE' },
      ]),
    };
  }
  if (pushkey.startsWith('hang')) return 'hang';
  return { status: 200, body: { name: `projects/${project}/messages/${fake.received.length}` } };
}

export async function startFakeFcm(options: {
  projectId: string;
  /** Whether a bearer token was issued by the fake OAuth server (and so is valid). */
  isValidToken: (token: string) => boolean;
}): Promise<FakeFcm> {
  const server: Http2Server = http2.createSecureServer({
    key: readFileSync(new URL('server.key', TLS_DIR)),
    cert: readFileSync(new URL('server.pem', TLS_DIR)),
    // What Google's front ends announce: 100 streams per connection.
    settings: { maxConcurrentStreams: 100 },
  });
  const open = new Set<Http2Session>();
  const seen = new Set<string>();
  const sessionIds = new WeakMap<Http2Session, number>();
  const fake: FakeFcm = {
    url: '',
    received: [],
    refusals: [],
    sessions: 0,
    cancelled: 0,
    retryAfter: '3600',
    goAwayAll: () => {
      for (const session of open) session.goaway();
    },
    close: () =>
      new Promise((resolve) => {
        for (const session of open) session.destroy();
        server.close(() => resolve());
      }),
  };
  server.on('session', (session) => {
    fake.sessions++;
    sessionIds.set(session, fake.sessions);
    open.add(session);
    session.on('close', () => open.delete(session));
  });

  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    stream.on('close', () => {
      if (!stream.headersSent) fake.cancelled++;
    });
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const reply = (status: number, body: unknown, extra: Record<string, string> = {}) => {
        if (stream.destroyed) return;
        // A string body is an HTML page (not FCM speaking); anything else is FCM's JSON.
        const html = typeof body === 'string';
        const type = html ? 'text/html' : 'application/json; charset=UTF-8';
        stream.respond({ ':status': status, 'content-type': type, ...extra });
        stream.end(html ? body : JSON.stringify(body));
      };
      const refuse = (status: number, rpcStatus: string, message: string) => {
        fake.refusals.push(`${status} ${message}`);
        reply(status, rpcError(status, rpcStatus, message));
      };
      const path = String(headers[':path']);
      if (headers[':method'] !== 'POST' || path !== `/v1/projects/${options.projectId}/messages:send`) {
        return refuse(404, 'NOT_FOUND', `${headers[':method']} ${path}`);
      }
      const auth = headers.authorization;
      const bearer = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : '';
      if (!options.isValidToken(bearer)) {
        return refuse(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.');
      }
      if (!/^application\/json/.test(String(headers['content-type']))) {
        return refuse(400, 'INVALID_ARGUMENT', 'content-type is not JSON');
      }
      let body: ReceivedPush['body'];
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return refuse(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      }
      const message = body?.message;
      if (typeof message !== 'object' || message === null || typeof message.token !== 'string') {
        return refuse(400, 'INVALID_ARGUMENT', 'message.token missing');
      }
      let dataBytes = 0;
      for (const [i, [key, value]] of Object.entries(message.data ?? {}).entries()) {
        if (typeof value !== 'string') {
          return refuse(400, 'INVALID_ARGUMENT', `Invalid value at 'message.data[${i}].value' (TYPE_STRING)`);
        }
        dataBytes += Buffer.byteLength(key) + Buffer.byteLength(value);
      }
      if (dataBytes > 4096) return refuse(400, 'INVALID_ARGUMENT', 'Android message is too big');

      fake.received.push({
        pushkey: message.token,
        path,
        authorization: auth as string,
        body,
        session: sessionIds.get(stream.session!) ?? 0,
      });
      const answer = scripted(message.token, fake, seen, options.projectId);
      if (answer === 'hang') return;
      reply(answer.status, answer.body, answer.headers);
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
