/**
 * An OAuth2 access token shared by every push of one app: reused until shortly before it expires,
 * then refreshed by exactly one request however many pushes are waiting (a cold start with 100
 * concurrent pushes must not send 100 token requests). A failed refresh is a TemporaryDeliveryError
 * for the pushes that waited: the dispatcher retries within the request budget, and the gateway
 * stays up.
 */
import type { Clock } from '../../clock.ts';
import { TemporaryDeliveryError } from '../provider.ts';

export interface AccessToken {
  readonly accessToken: string;
  /** Clock milliseconds when the token stops working. */
  readonly expiresAt: number;
}

/** Fetches a new token; given the clock's `now` so lifetimes are measured on the injected clock. */
export type TokenMinter = (now: number) => Promise<AccessToken>;

/** Refresh this long before expiry (Google's tokens live an hour), or at a quarter of a shorter life. */
const REFRESH_MARGIN_MS = 5 * 60_000;

export class TokenCache {
  readonly #mint: TokenMinter;
  readonly #clock: Clock;
  readonly #onRefresh: (result: 'success' | 'error') => void;
  #current: (AccessToken & { refreshAt: number }) | undefined;
  #pending: Promise<AccessToken> | undefined;

  constructor(mint: TokenMinter, clock: Clock, onRefresh: (result: 'success' | 'error') => void) {
    this.#mint = mint;
    this.#clock = clock;
    this.#onRefresh = onRefresh;
  }

  /** A valid token; waits for (or starts) the one refresh in flight when needed. */
  async get(signal?: AbortSignal): Promise<string> {
    const now = this.#clock.now();
    const current = this.#current;
    if (current !== undefined && now < current.refreshAt) return current.accessToken;
    try {
      const fresh = await abortable(this.#refresh(), signal);
      return fresh.accessToken;
    } catch (error) {
      // Still inside its lifetime: the old token works while the refresh is retried on a later push.
      if (current !== undefined && this.#clock.now() < current.expiresAt && !signal?.aborted) {
        return current.accessToken;
      }
      throw error;
    }
  }

  /** Forget the token (FCM said 401: it may have been revoked); the next push mints a new one. */
  invalidate(accessToken: string): void {
    if (this.#current?.accessToken === accessToken) this.#current = undefined;
  }

  #refresh(): Promise<AccessToken> {
    this.#pending ??= this.#startRefresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #startRefresh(): Promise<AccessToken> {
    const issuedAt = this.#clock.now();
    let token: AccessToken;
    try {
      token = await this.#mint(issuedAt);
    } catch (error) {
      this.#onRefresh('error');
      throw new TemporaryDeliveryError(`OAuth2 token refresh failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.#onRefresh('success');
    const lifetime = Math.max(0, token.expiresAt - issuedAt);
    const margin = Math.min(REFRESH_MARGIN_MS, lifetime / 4);
    this.#current = { ...token, refreshAt: token.expiresAt - margin };
    return token;
  }
}

/** `work`, or a TemporaryDeliveryError once `signal` aborts (the shared refresh carries on). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(new TemporaryDeliveryError('request budget ran out'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TemporaryDeliveryError('request budget ran out waiting for a token'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
