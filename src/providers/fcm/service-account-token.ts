/**
 * OAuth2 access tokens from a service account key file: the JWT-bearer grant (RFC 7523 §2.1) that
 * Google documents at https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 * — an RS256 assertion (iss = sub = client_email, aud = token_uri, scope) posted to the file's own
 * `token_uri`.
 *
 * Why not google-auth-library here: its service-account client (JWT/GoogleToken) always posts to a
 * fixed Google URL and ignores the file's `token_uri`, while Google's Python library, and so Sygnal,
 * honour it (private Google endpoints, test servers). This small part is therefore ours; Application
 * Default Credentials still go through google-auth-library (adc-token.ts).
 */
import { readFile } from 'node:fs/promises';
import { importPKCS8, SignJWT } from 'jose';
import { type Dispatcher, request } from 'undici';
import { ConfigError } from '../../errors.ts';
import { isObject } from '../../matrix/notification.ts';
import type { AccessToken, TokenMinter } from './token-cache.ts';

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
/** Google accepts assertions valid for at most an hour. */
const ASSERTION_LIFETIME_S = 3600;
const TOKEN_REQUEST_TIMEOUT_MS = 10_000;

type PrivateKey = Awaited<ReturnType<typeof importPKCS8>>;

export interface ServiceAccount {
  readonly clientEmail: string;
  readonly privateKey: PrivateKey;
  readonly privateKeyId: string | undefined;
  readonly tokenUri: string;
  readonly projectId: string | undefined;
}

/** Reads and checks the key file at start; every problem is a ConfigError naming `keyPath`. */
export async function loadServiceAccount(file: string, keyPath: string): Promise<ServiceAccount> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(keyPath, `cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(
      keyPath,
      `${file} is not JSON; download a service account key (JSON) from the console.`,
    );
  }
  const invalid = (what: string) =>
    new ConfigError(
      keyPath,
      `${file} ${what}; set it to a service account key file (Firebase console → Project settings → ` +
        'Service accounts → Generate new private key).',
    );
  if (!isObject(json) || json.type !== 'service_account') throw invalid('is not a service account key');
  if (typeof json.client_email !== 'string' || json.client_email === '') throw invalid('has no client_email');
  if (typeof json.private_key !== 'string') throw invalid('has no private_key');
  const tokenUri = typeof json.token_uri === 'string' ? json.token_uri : DEFAULT_TOKEN_URI;
  if (!/^https?:\/\//.test(tokenUri)) throw invalid(`has a token_uri that is not a URL (${tokenUri})`);
  let privateKey: PrivateKey;
  try {
    privateKey = await importPKCS8(json.private_key, 'RS256');
  } catch (error) {
    throw invalid(`has a private_key that is not an RSA PKCS#8 key (${(error as Error).message})`);
  }
  return {
    clientEmail: json.client_email,
    privateKey,
    privateKeyId: typeof json.private_key_id === 'string' ? json.private_key_id : undefined,
    tokenUri,
    projectId: typeof json.project_id === 'string' && json.project_id !== '' ? json.project_id : undefined,
  };
}

/** Signs the RFC 7523 assertion. `now` is in milliseconds. */
export async function signAssertion(account: ServiceAccount, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ scope: FCM_SCOPE })
    .setProtectedHeader({
      alg: 'RS256',
      typ: 'JWT',
      ...(account.privateKeyId ? { kid: account.privateKeyId } : {}),
    })
    .setIssuer(account.clientEmail)
    .setSubject(account.clientEmail)
    .setAudience(account.tokenUri)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_S)
    .sign(account.privateKey);
}

/** A TokenMinter posting the assertion to the account's token_uri (RFC 6749 §5.1 answer). */
export function serviceAccountMinter(account: ServiceAccount, dispatcher?: Dispatcher): TokenMinter {
  return async (now: number, signal: AbortSignal): Promise<AccessToken> => {
    const assertion = await signAssertion(account, now);
    const response = await request(account.tokenUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion,
      }).toString(),
      signal: AbortSignal.any([signal, AbortSignal.timeout(TOKEN_REQUEST_TIMEOUT_MS)]),
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = await response.body.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (response.statusCode !== 200 || !isObject(json) || typeof json.access_token !== 'string') {
      // RFC 6749 §5.2: {"error": "invalid_grant", "error_description": "…"}; never log the body whole.
      const error = isObject(json) && typeof json.error === 'string' ? json.error : 'no access_token';
      const description =
        isObject(json) && typeof json.error_description === 'string' ? `: ${json.error_description}` : '';
      throw new Error(`token endpoint answered ${response.statusCode} ${error}${description}`);
    }
    const expiresIn = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 3600;
    return { accessToken: json.access_token, expiresAt: now + expiresIn * 1000 };
  };
}
