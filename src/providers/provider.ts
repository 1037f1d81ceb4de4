/**
 * The seam between the dispatcher and each push service. A provider handles one device per call;
 * the dispatcher owns fan-out, concurrency limits, retries and duplicate suppression, so a new
 * provider implements `send` and `close` and nothing else.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Device, Notification } from '../matrix/notification.ts';
import type { Metrics } from '../metrics/metrics.ts';

/**
 * What happened to one device. A dead token is an expected outcome, so it is returned, not thrown.
 * - delivered: the push service accepted the push.
 * - rejected: the pushkey is dead; the homeserver must delete the pusher.
 * - dropped: deliberately not sent (nothing to send, an endpoint the policy blocks); not an error.
 */
export type DeliveryOutcome =
  | { kind: 'delivered' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'dropped'; reason: string };

/** The push service failed in a way that may pass: the dispatcher retries inside the request budget. */
export class TemporaryDeliveryError extends Error {
  /** The push service's `Retry-After`, in milliseconds, when it gave one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TemporaryDeliveryError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The push service refused in a way retrying will not fix (bad config, our payload): 502, loud log. */
export class PermanentDeliveryError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'PermanentDeliveryError';
  }
}

/** Per-attempt context the dispatcher hands to a provider. */
export interface DispatchContext {
  readonly logger: Logger;
  /** Aborted when the request's time budget runs out; transports must pass it to their I/O. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds when the request's budget ends. */
  readonly deadline: number;
  /** 1 for the first try, 2 for the first retry, … */
  readonly attempt: number;
  /** Stable across the retries of one push to one device (APNs uses it as `apns-id`). */
  readonly pushId: string;
}

export interface PushProvider {
  /** The `apps` key this provider serves; may be a glob. */
  readonly appId: string;
  /** The config `type` that built it. */
  readonly kind: string;
  send(notification: Notification, device: Device, ctx: DispatchContext): Promise<DeliveryOutcome>;
  /** Drain connections on shutdown. */
  close(): Promise<void>;
}

/** What every provider factory receives besides its own config section. */
export interface ProviderDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly clock: Clock;
  /** Sygnal's top-level `proxy`: an outbound HTTP proxy URL, when configured. */
  readonly proxy: string | undefined;
}

/** The keys every app section has, whatever its type; the rest belongs to the provider. */
export interface CommonAppConfig {
  type: string;
  inflight_request_limit: number;
  endpoint?: string;
  connect_timeout_ms: number;
  response_timeout_ms: number;
}

/** A JSON-schema fragment for one property of an app section. */
export type JsonSchema = Record<string, unknown>;

/**
 * One kind of push service. The registry maps the config `type` to this; a new provider is a new
 * folder with one of these and a line in registry.ts.
 */
export interface ProviderModule<Config extends CommonAppConfig = CommonAppConfig> {
  readonly type: string;
  /** JSON schema of the provider's own keys (the common ones are added by the loader). */
  readonly configProperties: Record<string, JsonSchema>;
  readonly requiredKeys?: readonly string[];
  /**
   * Checks that schema cannot express (files readable, keys parse, cross-field rules); throws
   * ConfigError naming the key. Runs at start, before the gateway listens.
   */
  create(appId: string, config: Config, deps: ProviderDeps): Promise<PushProvider>;
}
