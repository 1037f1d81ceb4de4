/**
 * `type: gcm` (FCM HTTP v1, REFERENCE §5): one POST to /v1/projects/<project_id>/messages:send per
 * device, with an OAuth2 bearer token, over multiplexed HTTP/2.
 *
 *   build message (pure) ──nothing to send──▶ dropped
 *        │
 *   access token (cached, single refresh) ──refresh failed──▶ TemporaryDeliveryError
 *        │
 *   HTTP/2 POST ──network/timeout──▶ TemporaryDeliveryError
 *        │
 *   answer table (fcm-errors.ts) ──▶ delivered | rejected | Temporary… | Permanent…
 */
import { ProxyAgent } from 'undici';
import { parseRetryAfter } from '../../dispatch/retry.ts';
import type { Device, Notification } from '../../matrix/notification.ts';
import { type Http2Answer, Http2Pool, TransportError } from '../../net/http2-pool.ts';
import type {
  DeliveryOutcome,
  DispatchContext,
  ProviderDeps,
  ProviderModule,
  PushProvider,
} from '../provider.ts';
import { PermanentDeliveryError, TemporaryDeliveryError } from '../provider.ts';
import { adcMinter } from './adc-token.ts';
import { FCM_CONFIG_PROPERTIES, type FcmConfig, resolveFcmConfig } from './fcm-config.ts';
import { classifyFcmResponse, parseFcmError, reasonLabel } from './fcm-errors.ts';
import { buildFcmMessage } from './fcm-message.ts';
import { serviceAccountMinter } from './service-account-token.ts';
import { TokenCache } from './token-cache.ts';

export const fcmModule: ProviderModule<FcmConfig> = {
  type: 'gcm',
  configProperties: FCM_CONFIG_PROPERTIES,
  async create(appId, config, deps) {
    const resolved = await resolveFcmConfig(appId, config, deps.logger);
    const proxyAgent = deps.proxy ? new ProxyAgent(deps.proxy) : undefined;
    const mint = resolved.serviceAccount
      ? serviceAccountMinter(resolved.serviceAccount, proxyAgent)
      : adcMinter();
    if (!resolved.serviceAccount) {
      deps.logger.info('no service_account_file: using Application Default Credentials');
    }
    const tokens = new TokenCache(mint, deps.clock, (result, error) => {
      deps.metrics.tokenRefreshes.inc({ app: appId, provider: 'gcm', result });
      // Pushes keep the current token while it lasts, so a failed refresh may be visible only here.
      if (error) deps.logger.warn({ err: error.message }, 'FCM OAuth2 token refresh failed');
    });
    const transport = new Http2Pool({
      origin: resolved.origin,
      service: 'FCM',
      maxSessions: config.max_connections,
      connectTimeoutMs: config.connect_timeout_ms,
      responseTimeoutMs: config.response_timeout_ms,
      // No PING: an unused session is closed after a minute instead of being kept alive.
      idleTimeoutMs: 60_000,
      proxy: deps.proxy,
      logger: deps.logger,
    });
    return new FcmProvider({
      appId,
      deps,
      tokens,
      transport,
      path: `${resolved.basePath}/v1/projects/${encodeURIComponent(resolved.projectId)}/messages:send`,
      fcmOptions: config.fcm_options,
      sendBadgeCounts: config.send_badge_counts,
      close: async () => {
        await proxyAgent?.close();
      },
    });
  },
};

interface FcmProviderParts {
  appId: string;
  deps: ProviderDeps;
  tokens: TokenCache;
  transport: Http2Pool;
  path: string;
  fcmOptions: FcmConfig['fcm_options'];
  sendBadgeCounts: boolean;
  close: () => Promise<void>;
}

class FcmProvider implements PushProvider {
  readonly kind = 'gcm';
  readonly appId: string;
  readonly #parts: FcmProviderParts;

  constructor(parts: FcmProviderParts) {
    this.appId = parts.appId;
    this.#parts = parts;
  }

  async send(notification: Notification, device: Device, ctx: DispatchContext): Promise<DeliveryOutcome> {
    const { tokens, transport, path, deps } = this.#parts;
    const built = buildFcmMessage(notification, device, {
      fcmOptions: this.#parts.fcmOptions,
      sendBadgeCounts: this.#parts.sendBadgeCounts,
    });
    if (built.kind === 'nothing') return { kind: 'dropped', reason: built.reason };
    // It can never work (e.g. default_payload alone is over FCM's limit): the homeserver deletes the pusher.
    if (built.kind === 'unusable') return { kind: 'rejected', reason: built.reason };
    if (built.kind === 'too_large') throw new PermanentDeliveryError(built.reason);

    const accessToken = await tokens.get(ctx.signal);
    const labels = { app: this.appId, provider: this.kind };
    const started = performance.now();
    let response: Http2Answer;
    try {
      response = await transport.request({
        path,
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'herald',
        },
        body: JSON.stringify(built.body),
        signal: ctx.signal,
      });
    } catch (error) {
      deps.metrics.providerResponses.inc({ ...labels, status: 'network', reason: 'network' });
      // A request HTTP/2 refused to send would be refused again: not worth a retry.
      if (error instanceof TransportError && error.kind === 'invalid') {
        throw new PermanentDeliveryError(`FCM: ${error.message}`, { cause: error });
      }
      throw new TemporaryDeliveryError(`FCM unreachable: ${(error as Error).message}`, { cause: error });
    } finally {
      deps.metrics.providerRequestDuration.observe(labels, (performance.now() - started) / 1000);
    }

    const info = parseFcmError(response.body);
    deps.metrics.providerResponses.inc({
      ...labels,
      status: String(response.status),
      reason: reasonLabel(info),
    });
    const verdict = classifyFcmResponse(response.status, info);
    switch (verdict.action) {
      case 'delivered':
        return { kind: 'delivered' };
      case 'rejected':
        return { kind: 'rejected', reason: `FCM: ${verdict.reason}` };
      case 'temporary': {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after'], deps.clock.now());
        throw new TemporaryDeliveryError(`FCM answered ${response.status} ${verdict.reason}`, {
          retryAfterMs,
        });
      }
      case 'permanent': {
        // A plain 401 means FCM no longer takes our token (revoked, key rotated): mint a new one next
        // time. THIRD_PARTY_AUTH_ERROR is about the APNs key in Firebase, not our token.
        if (response.status === 401 && info.errorCode !== 'THIRD_PARTY_AUTH_ERROR')
          tokens.invalidate(accessToken);
        // Loud: this is a config problem (credentials, project, APNs key in Firebase) or our payload.
        ctx.logger.error(
          {
            status: response.status,
            fcm_error: info.errorCode,
            fcm_status: info.status,
            message: info.message,
          },
          'FCM refused the push permanently: check project_id, the service account and fcm_options',
        );
        throw new PermanentDeliveryError(`FCM answered ${response.status} ${verdict.reason}`);
      }
    }
  }

  async close(): Promise<void> {
    await this.#parts.transport.close();
    await this.#parts.close();
  }
}
