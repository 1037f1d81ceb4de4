/**
 * A Web Push service (RFC 8030) on 127.0.0.1:0 over TLS (test/fixtures/tls/server.pem), speaking
 * HTTP/2 (node:http2 createSecureServer, allowHTTP1) or HTTP/1.1 only, and checking what it receives
 * the way a real one does, plus what only the browser could check:
 *
 * - VAPID (RFC 8292): `Authorization: vapid t=<jwt>, k=<key>`, the ES256 signature verified with jose
 *   against the key in `k=`, `aud` = the origin the request was sent to, `exp` in the future and at
 *   most 24 h ahead, `sub` mailto:/https:. Failures answer 401, as autopush does.
 * - `TTL` present (RFC 8030 §5.2), `Content-Encoding: aes128gcm`, body ≤ 4096 bytes (§7.2, else 413).
 * - The body is decrypted with the subscription's private key and auth secret (the browser's job), so
 *   tests assert on the JSON the service worker would see.
 *
 * Each subscription's answers are scripted: a queue of statuses (201 when empty) or 'hang'.
 */
import { createECDH, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, type JWTPayload, jwtVerify } from 'jose';
import { decryptWebPush, type UserAgentKeys } from './fake-push-service-decrypt.ts';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);

export interface FakeSubscription {
  /** What a browser's PushSubscription.toJSON() holds. */
  endpoint: string;
  p256dh: string;
  auth: string;
  path: string;
}

export type ScriptedAnswer = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

export interface ReceivedPush {
  path: string;
  httpVersion: string;
  headers: IncomingHttpHeaders;
  vapid: { token: string; publicKey: string; claims: JWTPayload };
  bodyBytes: number;
  plaintext: string;
  json: any;
  /** What the fake answered. */
  status: number | 'hang';
}

export interface FakePushService {
  readonly port: number;
  /** Pushes that passed every check, in arrival order. */
  readonly received: ReceivedPush[];
  /** Requests refused by a check, with why: a test expecting deliveries asserts this stays empty. */
  readonly refused: { path: string; status: number; reason: string }[];
  /** TLS connections accepted (a blocked endpoint must leave this at 0). */
  readonly connections: () => number;
  /** A new browser-style subscription at https://<host>:<port>/push/<id>. */
  subscribe(host?: string): FakeSubscription;
  /** Answers for the next requests to this subscription, in order. */
  script(subscription: FakeSubscription, ...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export interface FakePushServiceOptions {
  /** 'h2' (HTTP/2, HTTP/1.1 also accepted) or 'http1' (HTTP/1.1 only). */
  protocol?: 'h2' | 'http1';
  /** The clock VAPID `exp` is checked against (tests that move the gateway's clock move this one). */
  now?: () => number;
}

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

export async function startFakePushService(options: FakePushServiceOptions = {}): Promise<FakePushService> {
  const now = options.now ?? Date.now;
  const subscriptions = new Map<string, UserAgentKeys>();
  const scripts = new Map<string, ScriptedAnswer[]>();
  const received: ReceivedPush[] = [];
  const refused: FakePushService['refused'] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const refuse = (res: Response, path: string, status: number, reason: string) => {
    refused.push({ path, status, reason });
    // The two response types are the same at run time (the http2 compatibility API).
    (res as ServerResponse).writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: status, error: reason }));
  };

  const handle = async (req: Request, res: Response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '';
    const keys = subscriptions.get(path);
    if (req.method !== 'POST') return refuse(res, path, 405, 'POST only');
    if (keys === undefined) return refuse(res, path, 404, 'no such subscription');

    const authority = (req.headers[':authority'] as string | undefined) ?? req.headers.host ?? '';
    const vapid = await checkVapid(req.headers.authorization, `https://${authority}`, now());
    if (typeof vapid === 'string') return refuse(res, path, 401, vapid);
    const ttl = req.headers.ttl;
    if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) return refuse(res, path, 400, 'TTL header missing');
    if (req.headers['content-encoding'] !== 'aes128gcm') {
      return refuse(res, path, 400, 'Content-Encoding must be aes128gcm');
    }
    if (body.length > 4096) return refuse(res, path, 413, `body of ${body.length} bytes over 4096`);
    let plaintext: string;
    try {
      plaintext = new TextDecoder('utf-8', { fatal: true }).decode(decryptWebPush(body, keys));
    } catch (error) {
      return refuse(res, path, 400, `cannot decrypt: ${(error as Error).message}`);
    }

    const answer = scripts.get(path)?.shift() ?? { status: 201 };
    received.push({
      path,
      httpVersion: req.httpVersion,
      headers: req.headers,
      vapid,
      bodyBytes: body.length,
      plaintext,
      json: JSON.parse(plaintext),
      status: answer === 'hang' ? 'hang' : answer.status,
    });
    if (answer === 'hang') return; // never answered; close() destroys the connection
    (res as ServerResponse).writeHead(answer.status, {
      location: `${path}/message/${randomUUID()}`,
      ...answer.headers,
    });
    res.end(answer.body ?? '');
  };

  const onRequest = (req: Request, res: Response) => {
    handle(req, res).catch((error: unknown) => refuse(res, req.url ?? '', 500, String(error)));
  };
  const tls = {
    key: readFileSync(new URL('server.key', TLS_DIR)),
    cert: readFileSync(new URL('server.pem', TLS_DIR)),
  };
  const server: HttpsServer | Http2SecureServer =
    options.protocol === 'http1'
      ? createHttpsServer(tls, onRequest)
      : createSecureServer({ ...tls, allowHTTP1: true }, onRequest);
  server.on('secureConnection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    received,
    refused,
    connections: () => connections,
    subscribe(host = 'localhost') {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
      const path = `/push/${randomUUID()}`;
      subscriptions.set(path, { ecdh, auth });
      return {
        endpoint: `https://${host}:${port}${path}`,
        p256dh: ecdh.getPublicKey().toString('base64url'),
        auth: auth.toString('base64url'),
        path,
      };
    },
    script(subscription, ...answers) {
      scripts.set(subscription.path, [...(scripts.get(subscription.path) ?? []), ...answers]);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RFC 8292 §3: the header, the signature and the claims; a string says what is wrong. */
async function checkVapid(
  header: string | undefined,
  origin: string,
  nowMs: number,
): Promise<ReceivedPush['vapid'] | string> {
  const match = /^vapid t=([A-Za-z0-9_.-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (match === null) return `Authorization is not "vapid t=…, k=…": ${header}`;
  const [, token, publicKey] = match as unknown as [string, string, string];
  const point = Buffer.from(publicKey, 'base64url');
  if (point.length !== 65 || point[0] !== 4) return 'k= is not an uncompressed P-256 point';
  const key = await importJWK(
    {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    'ES256',
  );
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, key, {
      algorithms: ['ES256'],
      audience: origin,
      currentDate: new Date(nowMs),
      requiredClaims: ['exp', 'aud', 'sub'],
    }));
  } catch (error) {
    return `VAPID JWT refused: ${(error as Error).message}`;
  }
  if (claims.exp! * 1000 > nowMs + 24 * 3600 * 1000) return 'VAPID exp more than 24 h ahead';
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
    return 'VAPID sub not mailto:/https:';
  return { token, publicKey, claims };
}

/** Writes a fresh VAPID private key (PKCS#8 PEM) to a temp file, as `npm run vapid-keys` would. */
export function writeVapidKeyFile(): { path: string; publicKey: string } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const dir = mkdtempSync(join(tmpdir(), 'herald-vapid-'));
  const path = join(dir, 'vapid.pem');
  writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const jwk = privateKey.export({ format: 'jwk' });
  const point = Buffer.concat([
    Buffer.of(4),
    Buffer.from(jwk.x!, 'base64url'),
    Buffer.from(jwk.y!, 'base64url'),
  ]);
  return { path, publicKey: point.toString('base64url') };
}

/**
 * The pusher a web client registers, the way Sygnal documents it (docs/applications.md, Web Push):
 * the subscription's p256dh as pushkey, its endpoint and auth in data. Returned as the device the
 * homeserver then sends to the gateway (Synapse strips `url` from data).
 */
export function browserPusherDevice(
  appId: string,
  subscription: FakeSubscription,
  data: Record<string, unknown> = {},
) {
  const json = {
    endpoint: subscription.endpoint,
    keys: { p256dh: subscription.p256dh, auth: subscription.auth },
  };
  const pusher = {
    kind: 'http',
    app_id: appId,
    pushkey: json.keys.p256dh,
    data: {
      url: 'https://herald.example.org/_matrix/push/v1/notify',
      endpoint: json.endpoint,
      auth: json.keys.auth,
      ...data,
    },
  };
  const { url: _url, ...deviceData } = pusher.data;
  return {
    app_id: pusher.app_id,
    pushkey: pusher.pushkey,
    pushkey_ts: 1_700_000_000,
    data: deviceData,
    tweaks: {},
  };
}
