/**
 * `type: unifiedpush` (a Herald extension): the pushkey is the endpoint URL a UnifiedPush
 * distributor gave the app; the gateway POSTs the notification to it, under the endpoint policy.
 * Spec: https://unifiedpush.org/developers/gateway/ (the "Matrix gateway").
 */
import type { Clock } from '../../clock.ts';
import { parseRetryAfter } from '../../dispatch/retry.ts';
import type { Device, Notification } from '../../matrix/notification.ts';
import { ClientEndpointClient, warnProxyNotUsed } from '../../net/client-endpoint.ts';
import { ALLOWED_ENDPOINTS_PROPERTY } from '../../net/endpoint-policy.ts';
import type {
  CommonAppConfig,
  DeliveryOutcome,
  DispatchContext,
  ProviderDeps,
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
    allowed_endpoints: ALLOWED_ENDPOINTS_PROPERTY,
    max_connections: {
      type: 'integer',
      minimum: 1,
      default: 16,
      description: 'Connections per endpoint origin.',
    },
  },
  async create(appId, config, deps) {
    warnProxyNotUsed(deps, 'unifiedpush');
    return new UnifiedPushProvider(appId, config, deps);
  },
};

class UnifiedPushProvider implements PushProvider {
  readonly kind = 'unifiedpush';
  readonly appId: string;
  readonly #endpoints: ClientEndpointClient;
  readonly #clock: Clock;

  constructor(appId: string, config: UnifiedPushConfig, deps: ProviderDeps) {
    this.appId = appId;
    this.#clock = deps.clock;
    this.#endpoints = new ClientEndpointClient(
      { app: appId, provider: this.kind },
      {
        allowedEndpoints: config.allowed_endpoints,
        connectTimeoutMs: config.connect_timeout_ms,
        responseTimeoutMs: config.response_timeout_ms,
        connections: config.max_connections,
        // Distributors (ntfy, NextPush, …) are plain HTTP/1.1 servers more often than not.
        allowH2: false,
      },
      deps.metrics,
    );
  }

  async send(notification: Notification, device: Device, ctx: DispatchContext): Promise<DeliveryOutcome> {
    const target = this.#endpoints.check(device.pushkey, ctx, 'pushkey is not a URL');
    if (!target.ok) return target.outcome;
    const body = buildUnifiedPushBody(notification);
    if (body === null) {
      // Only identifiers longer than a whole message do this; a retry would fail the same way.
      ctx.logger.error('notification cannot be made to fit 4096 bytes even without its content; dropped');
      return { kind: 'dropped', reason: 'too large for UnifiedPush' };
    }
    const answer = await this.#endpoints.post(
      target.value,
      { 'content-type': 'application/json' },
      body,
      ctx,
    );
    if (!answer.ok) return answer.outcome;
    const { status, headers } = answer.value;
    return classify(status, parseRetryAfter(headers['retry-after'], this.#clock.now()));
  }

  async close(): Promise<void> {
    await this.#endpoints.close();
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
