/**
 * `type: unifiedpush` (a Herald extension): the pushkey is the endpoint URL a UnifiedPush
 * distributor gave the app; the gateway POSTs the notification to it, under the endpoint policy.
 * Spec: https://unifiedpush.org/developers/gateway/ (the "Matrix gateway").
 */

import { parseRetryAfter } from '../../dispatch/retry.ts';
import type { Device, Notification } from '../../matrix/notification.ts';
import { EndpointPolicy } from '../../net/endpoint-policy.ts';
import { isBlockedAddressError, OutboundHttp } from '../../net/outbound-http.ts';
import type {
  CommonAppConfig,
  DeliveryOutcome,
  DispatchContext,
  ProviderModule,
  PushProvider,
} from '../provider.ts';
import { PermanentDeliveryError, TemporaryDeliveryError } from '../provider.ts';
import { buildUnifiedPushBody } from './unifiedpush-message.ts';

export interface UnifiedPushConfig extends CommonAppConfig {
  allowed_endpoints?: string[];
  max_connections: number;
}

export const unifiedPushModule: ProviderModule<UnifiedPushConfig> = {
  type: 'unifiedpush',
  configProperties: {
    allowed_endpoints: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      description:
        'Globs of host[:port] that may be contacted, trusted as written (private or http included). ' +
        'Without it: https and public addresses only.',
    },
    max_connections: {
      type: 'integer',
      minimum: 1,
      default: 16,
      description: 'Connections per endpoint origin.',
    },
  },
  async create(appId, config, deps) {
    return new UnifiedPushProvider(appId, config, deps);
  },
};

class UnifiedPushProvider implements PushProvider {
  readonly kind = 'unifiedpush';
  readonly appId: string;
  readonly #policy: EndpointPolicy;
  readonly #http: OutboundHttp;
  readonly #metrics: Parameters<ProviderModule['create']>[2]['metrics'];

  constructor(appId: string, config: UnifiedPushConfig, deps: Parameters<ProviderModule['create']>[2]) {
    this.appId = appId;
    this.#policy = new EndpointPolicy(config.allowed_endpoints);
    this.#metrics = deps.metrics;
    this.#http = new OutboundHttp({
      connectTimeoutMs: config.connect_timeout_ms,
      responseTimeoutMs: config.response_timeout_ms,
      connections: config.max_connections,
      allowH2: false,
    });
  }

  async send(notification: Notification, device: Device, ctx: DispatchContext): Promise<DeliveryOutcome> {
    const verdict = this.#policy.evaluate(device.pushkey);
    if (!verdict.allowed) {
      // A pushkey that is not a URL can never work; a URL the operator's policy refuses might be
      // allowed later, so it is dropped, not rejected (an operator's policy must not delete pushers).
      if (verdict.reason === 'invalid_url') return { kind: 'rejected', reason: 'pushkey is not a URL' };
      return this.#blocked(verdict.reason, ctx);
    }
    const body = buildUnifiedPushBody(notification);
    if (body === null) throw new PermanentDeliveryError('notification cannot be made to fit 4096 bytes');

    const labels = { app: this.appId, provider: this.kind };
    const started = performance.now();
    let response: Awaited<ReturnType<OutboundHttp['post']>>;
    try {
      response = await this.#http.post(verdict.url, {
        trusted: verdict.trusted,
        headers: { 'content-type': 'application/json' },
        body,
        signal: ctx.signal,
      });
    } catch (error) {
      if (isBlockedAddressError(error)) return this.#blocked('private_address', ctx);
      this.#metrics.providerResponses.inc({ ...labels, status: 'network', reason: 'network' });
      throw new TemporaryDeliveryError(`endpoint unreachable: ${(error as Error).message}`, { cause: error });
    } finally {
      this.#metrics.providerRequestDuration.observe(labels, (performance.now() - started) / 1000);
    }
    this.#metrics.providerResponses.inc({ ...labels, status: String(response.status), reason: '' });
    return classify(response.status, parseRetryAfter(response.headers['retry-after'], Date.now()));
  }

  #blocked(reason: string, ctx: DispatchContext): DeliveryOutcome {
    this.#metrics.endpointsBlocked.inc({ app: this.appId, provider: this.kind, reason });
    ctx.logger.warn(
      { reason },
      'endpoint refused by the endpoint policy; push dropped (see allowed_endpoints)',
    );
    return { kind: 'dropped', reason: `endpoint policy: ${reason}` };
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}

/** The answer table (REFERENCE §7): the same as Web Push's. */
function classify(status: number, retryAfterMs: number | undefined): DeliveryOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 404 || status === 410) return { kind: 'rejected', reason: `endpoint answered ${status}` };
  if (status === 429 || status >= 500) {
    throw new TemporaryDeliveryError(`endpoint answered ${status}`, { retryAfterMs });
  }
  throw new PermanentDeliveryError(`endpoint answered ${status}`);
}
