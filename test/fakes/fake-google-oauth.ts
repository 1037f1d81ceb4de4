/**
 * A fake Google OAuth2 token endpoint (TLS, port 0) that checks the JWT-bearer grant as Google does
 * (https://developers.google.com/identity/protocols/oauth2/service-account#httprest): form-encoded
 * grant_type and assertion; the assertion RS256-signed by the service account's key, iss = sub =
 * client_email, aud = this token_uri, the firebase.messaging scope, and not expired. It issues
 * opaque tokens that the fake FCM then accepts.
 *
 * Also writes the service account key file a test points the gateway at.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';

const TLS_DIR = new URL('../fixtures/tls/', import.meta.url);
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

export interface FakeServiceAccount {
  file: string;
  clientEmail: string;
  projectId: string;
  publicKey: KeyObject;
}

/** A fresh RSA key in a service account JSON file under a new temp dir. */
export async function writeServiceAccount(
  tokenUri: string,
  options: { projectId?: string | null } = {},
): Promise<FakeServiceAccount> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const projectId = options.projectId === undefined ? 'herald-test' : options.projectId;
  const clientEmail = `herald@${projectId ?? 'nowhere'}.iam.gserviceaccount.com`;
  const dir = await mkdtemp(join(tmpdir(), 'herald-fcm-'));
  const file = join(dir, 'service-account.json');
  await writeFile(
    file,
    JSON.stringify({
      type: 'service_account',
      ...(projectId === null ? {} : { project_id: projectId }),
      private_key_id: 'key-1',
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      client_email: clientEmail,
      client_id: '1234567890',
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: tokenUri,
    }),
  );
  return { file, clientEmail, projectId: projectId ?? '', publicKey };
}

export interface FakeGoogleOAuth {
  /** https://127.0.0.1:<port>/token: put it in the service account file. */
  tokenUri: string;
  /** Token requests received, valid or not. */
  requests: number;
  /** Tokens issued so far. */
  issued: Set<string>;
  /** The service account whose assertions are accepted. */
  trust(account: { clientEmail: string; publicKey: KeyObject }): void;
  /** Answer every request with 500 (or back to normal). */
  failing: boolean;
  /** Seconds each token lives. */
  expiresIn: number;
  /** Delay before answering, so concurrent callers overlap. */
  delayMs: number;
  /** Why each refused request was refused. */
  refusals: string[];
  close(): Promise<void>;
}

export async function startFakeGoogleOAuth(options: { now?: () => number } = {}): Promise<FakeGoogleOAuth> {
  const now = options.now ?? Date.now;
  let trusted: { clientEmail: string; publicKey: KeyObject } | undefined;
  let counter = 0;
  const server: Server = createServer({
    key: readFileSync(new URL('server.key', TLS_DIR)),
    cert: readFileSync(new URL('server.pem', TLS_DIR)),
  });
  const fake: FakeGoogleOAuth = {
    tokenUri: '',
    requests: 0,
    issued: new Set(),
    trust: (account) => {
      trusted = account;
    },
    failing: false,
    expiresIn: 3599,
    delayMs: 0,
    refusals: [],
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  server.on('request', async (req, res) => {
    fake.requests++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const refuse = (status: number, error: string, description: string) => {
      fake.refusals.push(description);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error, error_description: description }));
    };
    if (fake.delayMs > 0) await new Promise((r) => setTimeout(r, fake.delayMs));
    if (fake.failing) return refuse(500, 'internal_failure', 'scripted failure');
    if (req.method !== 'POST' || req.url !== '/token')
      return refuse(404, 'not_found', `${req.method} ${req.url}`);
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) {
      return refuse(400, 'invalid_request', 'not form-encoded');
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString());
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return refuse(400, 'unsupported_grant_type', String(form.get('grant_type')));
    }
    if (trusted === undefined) return refuse(400, 'invalid_grant', 'no service account trusted');
    try {
      const { payload, protectedHeader } = await jwtVerify(form.get('assertion') ?? '', trusted.publicKey, {
        algorithms: ['RS256'],
        issuer: trusted.clientEmail,
        subject: trusted.clientEmail,
        audience: fake.tokenUri,
        currentDate: new Date(now()),
        requiredClaims: ['iat', 'exp'],
      });
      if (payload.scope !== FCM_SCOPE) throw new Error(`scope ${String(payload.scope)}`);
      if (protectedHeader.kid !== 'key-1') throw new Error(`kid ${String(protectedHeader.kid)}`);
      if (payload.exp! - payload.iat! > 3600) throw new Error('assertion lives over an hour');
    } catch (error) {
      return refuse(400, 'invalid_grant', `Invalid JWT: ${(error as Error).message}`);
    }
    const token = `ya29.fake-${++counter}`;
    fake.issued.add(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: token, expires_in: fake.expiresIn, token_type: 'Bearer' }));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.tokenUri = `https://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return fake;
}
