/**
 * VAPID (RFC 8292): the application server proves to the push service who it is with a JWT signed
 * by its key, sent as `Authorization: vapid t=<jwt>, k=<public key>` (§3, §3.1-3.2).
 * Claims: `aud` the push resource's origin (§2), `exp` at most 24 h ahead (§2), `sub` a contact
 * (§2.1). A token is valid for every push to one origin, so one token per origin is kept and reused
 * until it comes near expiry: signing costs far more than the rest of a push.
 */
import { type KeyObject, sign } from 'node:crypto';
import type { Clock } from '../../clock.ts';

/** 12 h, as web-push and pywebpush; well inside RFC 8292's 24 h. */
const TOKEN_LIFETIME_S = 12 * 60 * 60;
/** Renew an hour before expiry: push services' clocks are not ours. */
const RENEW_BEFORE_S = 60 * 60;
/** Endpoints are client-chosen; bound the cache so many origins cannot grow it without end. */
const MAX_ORIGINS = 1000;

const HEADER = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256' })).toString('base64url');

export interface VapidSignerOptions {
  privateKey: KeyObject;
  /** base64url of the uncompressed public point. */
  publicKey: string;
  /** `mailto:…` or `https:…`. */
  subject: string;
  clock: Clock;
  /** Called once per token signed (metrics). */
  onMint?: () => void;
}

export class VapidSigner {
  readonly #options: VapidSignerOptions;
  readonly #tokens = new Map<string, { authorization: string; expiresAt: number }>();

  constructor(options: VapidSignerOptions) {
    this.#options = options;
  }

  /** The Authorization header value for a push resource at `origin` (e.g. https://fcm.googleapis.com). */
  authorization(origin: string): string {
    const nowS = Math.floor(this.#options.clock.now() / 1000);
    const cached = this.#tokens.get(origin);
    if (cached !== undefined && cached.expiresAt - nowS > RENEW_BEFORE_S) return cached.authorization;

    const expiresAt = nowS + TOKEN_LIFETIME_S;
    const claims = { aud: origin, exp: expiresAt, sub: this.#options.subject };
    const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    // ES256 (RFC 7518 §3.4): the signature is r || s, not DER.
    const signature = sign('sha256', Buffer.from(signingInput), {
      key: this.#options.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    const authorization = `vapid t=${signingInput}.${signature.toString('base64url')}, k=${this.#options.publicKey}`;
    this.#options.onMint?.();

    this.#tokens.delete(origin);
    if (this.#tokens.size >= MAX_ORIGINS) this.#tokens.delete(this.#tokens.keys().next().value!);
    this.#tokens.set(origin, { authorization, expiresAt });
    return authorization;
  }
}
