/**
 * APNs credentials, read and checked at start (a bad file fails the gateway before it listens).
 *
 * Token auth (Apple: "Establishing a token-based connection to APNs"): an ES256 JWT with header
 * `kid` and claims `iss` (team ID) and `iat`. Apple refuses a token refreshed more often than every
 * 20 minutes (429 TooManyProviderTokenUpdates) and one older than an hour (403
 * ExpiredProviderToken), so the token is reused and renewed at 40 minutes.
 *
 * Certificate auth (Apple: "Establishing a certificate-based connection to APNs"): a PEM with the
 * client certificate and its key; the topic is the certificate subject's UID (the bundle ID).
 */

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { importPKCS8, SignJWT } from 'jose';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import { formatKeyPath } from '../../config/load.ts';
import { ConfigError } from '../../errors.ts';
import type { ApnsConfig } from './apns-config.ts';

/** Renew the JWT at this age: inside Apple's 20–60 minute window, with room for clock skew. */
export const JWT_RENEW_AFTER_MS = 40 * 60 * 1000;

export type ApnsAuth =
  | { mode: 'token'; topic: string; tokens: ProviderTokenCache }
  | { mode: 'cert'; topic: string; cert: string; key: string; expiresAt: Date };

type Signer = Parameters<SignJWT['sign']>[0];

/** The cached provider token; `renew(stale)` replaces it once however many pushes saw it refused. */
export class ProviderTokenCache {
  readonly #key: Signer;
  readonly #keyId: string;
  readonly #teamId: string;
  readonly #clock: Clock;
  readonly #onMint: (result: 'ok' | 'error') => void;
  #token: Promise<{ jwt: string; mintedAt: number }> | undefined;

  constructor(options: {
    key: Signer;
    keyId: string;
    teamId: string;
    clock: Clock;
    onMint: (result: 'ok' | 'error') => void;
  }) {
    this.#key = options.key;
    this.#keyId = options.keyId;
    this.#teamId = options.teamId;
    this.#clock = options.clock;
    this.#onMint = options.onMint;
  }

  /** The token to send now, minted when there is none or it has reached the renewal age. */
  current(): Promise<string> {
    return this.#usable((token) => {
      const age = this.#clock.now() - token.mintedAt;
      return age < JWT_RENEW_AFTER_MS && age >= 0;
    });
  }

  /** After 403 ExpiredProviderToken: a new token, unless another push already replaced `stale`. */
  renew(stale: string): Promise<string> {
    return this.#usable((token) => token.jwt !== stale);
  }

  /**
   * The cached token if `good` accepts it; else one new token for all callers (single flight).
   * Many pushes await the same cached promise and wake in one go; only the one that still finds
   * the token it looked at in the cache mints, the others wait for that mint. Minting once per
   * waiting push would change the token many times a second, which Apple answers with 429
   * TooManyProviderTokenUpdates.
   */
  async #usable(good: (token: { jwt: string; mintedAt: number }) => boolean): Promise<string> {
    for (;;) {
      const seen = this.#token;
      if (seen === undefined) return this.#mint();
      const token = await seen;
      if (good(token)) return token.jwt;
      // #mint replaces #token before its first await, so the first caller here claims the renewal.
      if (this.#token === seen) return this.#mint();
    }
  }

  async #mint(): Promise<string> {
    const mintedAt = this.#clock.now();
    const minting = new SignJWT({ iss: this.#teamId })
      .setProtectedHeader({ alg: 'ES256', kid: this.#keyId })
      .setIssuedAt(Math.floor(mintedAt / 1000))
      .sign(this.#key)
      .then((jwt) => ({ jwt, mintedAt }));
    this.#token = minting;
    try {
      const { jwt } = await minting;
      this.#onMint('ok');
      return jwt;
    } catch (error) {
      this.#onMint('error');
      if (this.#token === minting) this.#token = undefined;
      throw error;
    }
  }
}

async function readCredential(appId: string, key: 'keyfile' | 'certfile', path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      formatKeyPath(['apps', appId, key]),
      `cannot read ${JSON.stringify(path)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); ` +
        'set it to a readable file.',
    );
  }
}

/** Reads and checks the credentials of one app; certfile wins when both are set (as in Sygnal). */
export async function loadApnsAuth(
  appId: string,
  config: ApnsConfig,
  deps: { clock: Clock; logger: Logger; onMint: (result: 'ok' | 'error') => void },
): Promise<ApnsAuth> {
  if (config.certfile !== undefined) {
    if (config.keyfile !== undefined) {
      deps.logger.warn(
        'both certfile and keyfile are set; using certfile (certificate auth), as Sygnal does',
      );
    }
    return loadCertificate(appId, config.certfile, config.topic, deps.logger);
  }
  const path = (key: string) => formatKeyPath(['apps', appId, key]);
  if (config.keyfile === undefined) {
    throw new ConfigError(
      path('keyfile'),
      'no APNs credentials: set keyfile, key_id, team_id and topic (token auth, a .p8 key) ' +
        'or certfile (certificate auth, a PEM with certificate and key).',
    );
  }
  for (const key of ['key_id', 'team_id', 'topic'] as const) {
    if (config[key] === undefined) {
      throw new ConfigError(
        path(key),
        `token auth (keyfile) needs ${key}; set it (see the Apple developer account).`,
      );
    }
  }
  const pem = await readCredential(appId, 'keyfile', config.keyfile);
  let key: Signer;
  try {
    key = await importPKCS8(pem, 'ES256');
  } catch (error) {
    throw new ConfigError(
      path('keyfile'),
      `${JSON.stringify(config.keyfile)} is not an APNs signing key (a PKCS#8 P-256 .p8 file): ` +
        `${(error as Error).message}; set keyfile to the AuthKey_<key_id>.p8 file Apple gave you.`,
    );
  }
  const tokens = new ProviderTokenCache({
    key,
    keyId: config.key_id!,
    teamId: config.team_id!,
    clock: deps.clock,
    onMint: deps.onMint,
  });
  return { mode: 'token', topic: config.topic!, tokens };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

async function loadCertificate(
  appId: string,
  certfile: string,
  configuredTopic: string | undefined,
  logger: Logger,
): Promise<ApnsAuth> {
  const path = formatKeyPath(['apps', appId, 'certfile']);
  const pem = await readCredential(appId, 'certfile', certfile);
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const certs = blocks.filter((b) => b[1] === 'CERTIFICATE').map((b) => b[0]);
  const keys = blocks.filter((b) => b[1]!.endsWith('PRIVATE KEY')).map((b) => b[0]);
  if (certs.length === 0 || keys.length === 0) {
    throw new ConfigError(
      path,
      `${JSON.stringify(certfile)} must hold the client certificate and its unencrypted private key in PEM ` +
        '(e.g. `openssl pkcs12 -in cert.p12 -out cert.pem -nodes`).',
    );
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certs[0]!);
    createPrivateKey(keys[0]!);
  } catch (error) {
    throw new ConfigError(path, `cannot parse ${JSON.stringify(certfile)}: ${(error as Error).message}.`);
  }
  try {
    // The TLS context checks that the key belongs to the certificate ("key values mismatch"):
    // found here, a wrong pair stops the gateway at start instead of failing every connect.
    createSecureContext({ cert: certs.join('\n'), key: keys[0]! });
  } catch (error) {
    throw new ConfigError(
      path,
      `the private key in ${JSON.stringify(certfile)} does not belong to its certificate ` +
        `(${(error as Error).message}); put the certificate and its own key in the file.`,
    );
  }
  const uid = /^UID=(.+)$/m.exec(x509.subject)?.[1]?.trim();
  const topic = uid ?? configuredTopic;
  if (topic === undefined) {
    throw new ConfigError(
      formatKeyPath(['apps', appId, 'topic']),
      'the certificate has no subject UID to take the topic from; set topic to the app bundle ID.',
    );
  }
  if (uid !== undefined && configuredTopic !== undefined && configuredTopic !== uid) {
    logger.warn(
      { topic: uid, configured: configuredTopic },
      'certificate auth: using the certificate UID as topic',
    );
  }
  const expiresAt = new Date(x509.validTo);
  if (expiresAt.getTime() < Date.now())
    logger.error({ expires_at: expiresAt }, 'the APNs certificate has expired');
  return { mode: 'cert', topic, cert: certs.join('\n'), key: keys[0]!, expiresAt };
}
