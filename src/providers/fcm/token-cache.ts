/**
 * An OAuth2 access token shared by every push of one app: reused until shortly before it expires,
 * then refreshed by exactly one request however many pushes are waiting (a cold start with 100
 * concurrent pushes must not send 100 token requests). While the current token is still valid the
 * refresh runs in the background and pushes keep using the current token; only a push with no valid
 * token waits. A failed refresh is a TemporaryDeliveryError for the pushes that waited: the
 * dispatcher retries within the request budget, and the gateway stays up. Every refresh is bounded
 * by a timeout (gcp-metadata, under ADC, has none), so a hung token endpoint cannot block refreshes
 * for good.
 */
import type { Clock } from '../../clock.ts';
import { TemporaryDeliveryError } from '../provider.ts';

export interface AccessToken {
  readonly accessToken: string;
  /** Clock milliseconds when the token stops working. */
  readonly expiresAt: number;
}

/**
 * Fetches a new token; given the clock's `now` so lifetimes are measured on the injected clock, and
 * a signal that aborts when the cache gives up on it.
 */
export type TokenMinter = (now: number, signal: AbortSignal) => Promise<AccessToken>;

export type RefreshListener = (result: 'success' | 'error', error?: Error) => void;

/** Refresh this long before expiry (Google's tokens live an hour), or at a quarter of a shorter life. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** A refresh that has not settled by then counts as failed, and the next push starts another. */
export const DEFAULT_MINT_TIMEOUT_MS = 10_000;

export class TokenCache {
  readonly #mint: TokenMinter;
  readonly #clock: Clock;
  readonly #onRefresh: RefreshListener;
  readonly #mintTimeoutMs: number;
  #current: (AccessToken & { refreshAt: number }) | undefined;
  #pending: Promise<AccessToken> | undefined;

  constructor(
    mint: TokenMinter,
    clock: Clock,
    onRefresh: RefreshListener,
    options: { mintTimeoutMs?: number } = {},
  ) {
    this.#mint = mint;
    this.#clock = clock;
    this.#onRefresh = onRefresh;
    this.#mintTimeoutMs = options.mintTimeoutMs ?? DEFAULT_MINT_TIMEOUT_MS;
  }

  /**
   * A valid token. In the refresh margin the current token is returned at once and the one refresh
   * runs in the background (its failure is reported through `onRefresh`, and a later push tries
   * again); only without a valid token does the caller wait, at most until `signal` aborts.
   */
  async get(signal?: AbortSignal): Promise<string> {
    const now = this.#clock.now();
    const current = this.#current;
    if (current !== undefined && now < current.expiresAt) {
      if (now >= current.refreshAt) void this.#refresh();
      return current.accessToken;
    }
    const fresh = await abortable(this.#refresh(), signal);
    return fresh.accessToken;
  }

  /** Forget the token (FCM said 401: it may have been revoked); the next push mints a new one. */
  invalidate(accessToken: string): void {
    if (this.#current?.accessToken === accessToken) this.#current = undefined;
  }

  #refresh(): Promise<AccessToken> {
    if (this.#pending === undefined) {
      const pending = this.#startRefresh().finally(() => {
        this.#pending = undefined;
      });
      // Nobody may be waiting (a background refresh, callers whose budget ran out): the failure is
      // already reported through onRefresh, and must not become an unhandled rejection (Node exits).
      pending.catch(() => {});
      this.#pending = pending;
    }
    return this.#pending;
  }

  async #startRefresh(): Promise<AccessToken> {
    const issuedAt = this.#clock.now();
    let token: AccessToken;
    try {
      token = await this.#mintWithTimeout(issuedAt);
    } catch (error) {
      this.#onRefresh('error', error as Error);
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

  /** The minter, given up on after mintTimeoutMs (a late answer is ignored). */
  async #mintWithTimeout(issuedAt: number): Promise<AccessToken> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`no token within ${this.#mintTimeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, this.#mintTimeoutMs);
      timer.unref(); // a hung refresh must not hold the process open at shutdown
    });
    try {
      return await Promise.race([this.#mint(issuedAt, controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `work`, or a TemporaryDeliveryError once `signal` aborts (the shared refresh carries on). */
function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  // `work` is the shared refresh; its rejection is handled in #refresh, so leaving it here is safe.
  if (signal.aborted) return Promise.reject(new TemporaryDeliveryError('request budget ran out'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TemporaryDeliveryError('request budget ran out waiting for a token'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
