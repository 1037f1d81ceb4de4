/**
 * A fake APNs: a real node:http2 TLS server on port 0 (certificate from test/fixtures/tls, trusted
 * through NODE_EXTRA_CA_CERTS) that checks each request the way Apple documents it
 * (https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
 * and "Handling notification responses from APNs"): the ES256 provider token against the public
 * key (token auth) or the client certificate signed by the test CA (certificate auth), the topic,
 * priority, push type, apns-id and payload size. Valid requests get the answers scripted for their
 * device token (a queue per token; 200 once it is empty). Every request is recorded.
 */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { decodeProtectedHeader, jwtVerify } from 'jose';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
const PUSH_TYPES = new Set([
  'alert',
  'background',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'location',
  'liveactivity',
  'pushtotalk',
]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A scripted answer: an HTTP answer, or a failure without one. */
export type FakeAnswer =
  | { status: number; reason?: string; retryAfter?: string }
  | 'reset' // RST_STREAM(INTERNAL_ERROR) instead of an answer
  | 'goaway' // GOAWAY for the whole connection, then close it
  | 'hang'; // never answer

export type FakeApnsAuth =
  | { mode: 'token'; publicKey: KeyObject; keyId: string; teamId: string }
  | { mode: 'cert' };

export interface FakeApnsOptions {
  auth: FakeApnsAuth;
  topic: string;
  /** SETTINGS_MAX_CONCURRENT_STREAMS the server announces (Apple: 1000). */
  maxConcurrentStreams?: number;
  /** Apple refuses provider tokens older than an hour; this is its clock (epoch ms). */
  now?: () => number;
}

export interface RecordedApnsRequest {
  method: string;
  path: string;
  token: string;
  headers: http2.IncomingHttpHeaders;
  body: string;
  /** The bearer token, when one was sent. */
  jwt: string | undefined;
  /** Which TLS connection (1-based) carried it. */
  connection: number;
  /** What the fake answered. */
  answer: { status: number; reason: string } | 'reset' | 'goaway' | 'hang';
  /** The client cancelled the stream before an answer (e.g. its time budget ran out). */
  cancelledByClient: boolean;
}

export interface FakeApns {
  readonly url: string;
  readonly requests: RecordedApnsRequest[];
  /** TLS connections accepted so far. */
  connections(): number;
  /** HTTP/2 PING frames received (keep-alive). */
  pings(): number;
  /** TLS connections open right now. */
  openConnections(): number;
  /** The most streams one connection ever had open at once. */
  peakStreams(): number;
  /** The distinct provider tokens (JWTs) received so far, in the order first seen. */
  distinctJwts(): string[];
  /** Queues answers for a device token (hex, as in the path). */
  script(token: string, ...answers: FakeAnswer[]): void;
  requestsFor(token: string): RecordedApnsRequest[];
  close(): Promise<void>;
}

export async function startFakeApns(options: FakeApnsOptions): Promise<FakeApns> {
  const now = options.now ?? Date.now;
  const requests: RecordedApnsRequest[] = [];
  const scripts = new Map<string, FakeAnswer[]>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const connectionIds = new WeakMap<object, number>();
  let connectionCount = 0;
  let peak = 0;
  let pingCount = 0;
  const openStreams = new WeakMap<object, number>();

  const server = http2.createSecureServer({
    cert: readFileSync(new URL('server.pem', TLS_DIR)),
    key: readFileSync(new URL('server.key', TLS_DIR)),
    ca: readFileSync(new URL('ca.pem', TLS_DIR)),
    requestCert: options.auth.mode === 'cert',
    rejectUnauthorized: false,
    settings: { maxConcurrentStreams: options.maxConcurrentStreams ?? 1000 },
  });
  server.on('session', (session) => {
    connectionCount++;
    sessions.add(session);
    connectionIds.set(session, connectionCount);
    session.on('close', () => sessions.delete(session));
    session.on('ping', () => {
      pingCount++;
    });
    session.on('error', () => {});
  });

  server.on('stream', (stream, headers) => {
    const session = stream.session!;
    const open = (openStreams.get(session) ?? 0) + 1;
    openStreams.set(session, open);
    peak = Math.max(peak, open);
    stream.on('close', () => openStreams.set(session, (openStreams.get(session) ?? 1) - 1));
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      void handle(stream, headers, Buffer.concat(chunks).toString('utf8'), connectionIds.get(session) ?? 0);
    });
  });

  /** Apple's checks, in roughly Apple's order; null when the request is acceptable. */
  async function check(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    token: string | undefined,
    body: string,
    jwt: string | undefined,
  ): Promise<{ status: number; reason: string } | null> {
    if (headers[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
    if (token === undefined) return { status: 404, reason: 'BadPath' };
    if (!/^[0-9a-f]+$/i.test(token)) return { status: 400, reason: 'BadDeviceToken' };
    if (options.auth.mode === 'token') {
      if (jwt === undefined) return { status: 403, reason: 'MissingProviderToken' };
      const verdict = await checkJwt(jwt, options.auth, now());
      if (verdict !== null) return { status: 403, reason: verdict };
    } else {
      const socket = stream.session!.socket as unknown as TLSSocket;
      const peer = socket.getPeerCertificate();
      if (!socket.authorized || peer === null || Object.keys(peer).length === 0) {
        return { status: 403, reason: 'BadCertificate' };
      }
      const uid = new X509Certificate(peer.raw).subject.match(/^UID=(.+)$/m)?.[1];
      if (uid !== headers['apns-topic']) return { status: 400, reason: 'BadTopic' };
    }
    if (headers['apns-topic'] === undefined) return { status: 400, reason: 'MissingTopic' };
    if (headers['apns-topic'] !== options.topic) return { status: 400, reason: 'BadTopic' };
    const priority = headers['apns-priority'];
    if (priority !== undefined && !['10', '5', '1'].includes(String(priority))) {
      return { status: 400, reason: 'BadPriority' };
    }
    const pushType = headers['apns-push-type'];
    if (pushType !== undefined && !PUSH_TYPES.has(String(pushType)))
      return { status: 400, reason: 'InvalidPushType' };
    const id = headers['apns-id'];
    if (id !== undefined && !UUID.test(String(id))) return { status: 400, reason: 'BadMessageId' };
    if (Buffer.byteLength(body) > 4096) return { status: 413, reason: 'PayloadTooLarge' };
    if (body === '') return { status: 400, reason: 'PayloadEmpty' };
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('not an object');
    } catch {
      return { status: 400, reason: 'BadPayload' };
    }
    return null;
  }

  async function handle(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    body: string,
    connection: number,
  ): Promise<void> {
    const path = String(headers[':path']);
    const token = /^\/3\/device\/([^/?]+)$/.exec(path)?.[1];
    const auth = headers.authorization;
    const jwt = typeof auth === 'string' && auth.startsWith('bearer ') ? auth.slice(7) : undefined;
    const record: RecordedApnsRequest = {
      method: String(headers[':method']),
      path,
      token: token ?? '',
      headers,
      body,
      jwt,
      connection,
      answer: 'hang',
      cancelledByClient: false,
    };
    requests.push(record);
    const refusal = await check(stream, headers, token, body, jwt);
    const scripted = refusal === null ? scripts.get(token ?? '')?.shift() : undefined;
    const answer: FakeAnswer = refusal ?? scripted ?? { status: 200 };
    if (answer === 'hang') {
      stream.on('close', () => {
        record.cancelledByClient = stream.rstCode === http2.constants.NGHTTP2_CANCEL;
      });
      return;
    }
    if (answer === 'reset') {
      record.answer = 'reset';
      stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (answer === 'goaway') {
      record.answer = 'goaway';
      // Apple says why in the GOAWAY debug data; refusing every stream (last id 0) means none was handled.
      const session = stream.session!;
      session.goaway(http2.constants.NGHTTP2_NO_ERROR, 0, Buffer.from('{"reason":"Shutdown"}'));
      setTimeout(() => session.destroy(), 20);
      return;
    }
    record.answer = { status: answer.status, reason: answer.reason ?? '' };
    if (stream.closed) return;
    const responseHeaders: http2.OutgoingHttpHeaders = {
      ':status': answer.status,
      'apns-id': String(headers['apns-id'] ?? '00000000-0000-0000-0000-000000000000'),
    };
    if (answer.retryAfter !== undefined) responseHeaders['retry-after'] = answer.retryAfter;
    if (answer.status === 200) {
      stream.respond(responseHeaders, { endStream: true });
      return;
    }
    responseHeaders['content-type'] = 'application/json';
    stream.respond(responseHeaders);
    const errorBody: Record<string, unknown> = { reason: answer.reason ?? '' };
    if (answer.status === 410) errorBody.timestamp = now();
    stream.end(JSON.stringify(errorBody));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://localhost:${port}`,
    requests,
    connections: () => connectionCount,
    openConnections: () => sessions.size,
    pings: () => pingCount,
    peakStreams: () => peak,
    distinctJwts: () => [...new Set(requests.flatMap((r) => (r.jwt === undefined ? [] : [r.jwt])))],
    script(token, ...answers) {
      scripts.set(token, [...(scripts.get(token) ?? []), ...answers]);
    },
    requestsFor: (token) => requests.filter((r) => r.token === token),
    async close() {
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Apple's provider-token checks; the reason Apple gives, or null when the token is good. */
async function checkJwt(
  jwt: string,
  auth: Extract<FakeApnsAuth, { mode: 'token' }>,
  nowMs: number,
): Promise<string | null> {
  try {
    const header = decodeProtectedHeader(jwt);
    if (header.alg !== 'ES256' || header.kid !== auth.keyId) return 'InvalidProviderToken';
    const { payload } = await jwtVerify(jwt, auth.publicKey, {
      algorithms: ['ES256'],
      currentDate: new Date(nowMs),
    });
    if (payload.iss !== auth.teamId || typeof payload.iat !== 'number') return 'InvalidProviderToken';
    if (nowMs / 1000 - payload.iat > 3600) return 'ExpiredProviderToken';
    return null;
  } catch {
    return 'InvalidProviderToken';
  }
}
