/**
 * `type: webpush`: pushes to browsers through their push service (RFC 8030), encrypted for the
 * subscription (RFC 8291) and signed with the gateway's VAPID key (RFC 8292). The pusher data is
 * Sygnal's: pushkey = p256dh, data.endpoint, data.auth (see subscription.ts).
 *
 *   events_only and no event_id ──▶ dropped
 *   malformed subscription ──▶ rejected
 *   endpoint policy refuses ──▶ dropped (+ metric, log)
 *   default_payload alone too large ──▶ rejected; the event cannot fit ──▶ dropped (+ error log)
 *   plaintext (webpush-payload.ts) ──▶ encrypt ──▶ POST with VAPID ──▶ answer table below
 */
import { parseRetryAfter } from '../../dispatch/retry.ts';
import { type Device, defaultPayloadOf, type Notification } from '../../matrix/notification.ts';
import { ClientEndpointClient, warnProxyNotUsed } from '../../net/client-endpoint.ts';
import type { OutboundResponse } from '../../net/outbound-http.ts';
import type {
  DeliveryOutcome,
  DispatchContext,
  ProviderDeps,
  ProviderModule,
  PushProvider,
} from '../provider.ts';
import { PermanentDeliveryError, TemporaryDeliveryError } from '../provider.ts';
import { encryptAes128gcm } from './encrypt.ts';
import { parseSubscription } from './subscription.ts';
import { topicForRoom } from './topic.ts';
import { VapidSigner } from './vapid.ts';
import {
  loadVapidKeys,
  vapidSubject,
  WEBPUSH_CONFIG_PROPERTIES,
  WEBPUSH_REQUIRED_KEYS,
  type WebPushConfig,
} from './webpush-config.ts';
import { buildWebPushPlaintext, defaultPayloadFits } from './webpush-payload.ts';

export const webPushModule: ProviderModule<WebPushConfig> = {
  type: 'webpush',
  configProperties: WEBPUSH_CONFIG_PROPERTIES,
  requiredKeys: WEBPUSH_REQUIRED_KEYS,
  async create(appId, config, deps) {
    warnProxyNotUsed(deps, 'webpush');
    const keys = loadVapidKeys(appId, config.vapid_private_key);
    const subject = vapidSubject(appId, config.vapid_contact_email);
    if (config.endpoint !== undefined) {
      deps.logger.warn('`endpoint` has no effect for webpush: each subscription names its own endpoint');
    }
    return new WebPushProvider(
      appId,
      config,
      deps,
      new VapidSigner({
        ...keys,
        subject,
        clock: deps.clock,
        onMint: () => deps.metrics.tokenRefreshes.inc({ app: appId, provider: 'webpush', result: 'minted' }),
      }),
    );
  },
};

class WebPushProvider implements PushProvider {
  readonly kind = 'webpush';
  readonly appId: string;
  readonly #ttl: string;
  readonly #endpoints: ClientEndpointClient;
  readonly #vapid: VapidSigner;
  readonly #deps: ProviderDeps;

  constructor(appId: string, config: WebPushConfig, deps: ProviderDeps, vapid: VapidSigner) {
    this.appId = appId;
    this.#ttl = String(config.ttl);
    this.#vapid = vapid;
    this.#deps = deps;
    this.#endpoints = new ClientEndpointClient(
      { app: appId, provider: this.kind },
      {
        allowedEndpoints: config.allowed_endpoints,
        connectTimeoutMs: config.connect_timeout_ms,
        responseTimeoutMs: config.response_timeout_ms,
        connections: config.max_connections,
        // FCM, Mozilla autopush and Apple all speak HTTP/2: one connection carries many pushes.
        allowH2: true,
      },
      deps.metrics,
    );
  }

  async send(notification: Notification, device: Device, ctx: DispatchContext): Promise<DeliveryOutcome> {
    const parsed = parseSubscription(device);
    if (!parsed.ok) return { kind: 'rejected', reason: `malformed subscription: ${parsed.reason}` };
    const { subscription } = parsed;
    // Sygnal: `events_only` pushers want messages, not badge updates.
    if (device.data.events_only === true && notification.event_id === undefined) {
      return { kind: 'dropped', reason: 'events_only pusher and no event_id' };
    }

    const target = this.#endpoints.check(
      subscription.endpoint,
      ctx,
      'malformed subscription: data.endpoint is not a URL',
    );
    if (!target.ok) return target.outcome;

    // The dispatcher has already rejected a default_payload that is not an object.
    const parsedDefault = defaultPayloadOf(device);
    const defaultPayload = parsedDefault.ok ? parsedDefault.payload : {};
    if (!defaultPayloadFits(defaultPayload)) {
      // No push to this pusher can ever work: the homeserver should delete it.
      return { kind: 'rejected', reason: 'data.default_payload does not fit a Web Push message' };
    }
    const plaintext = buildWebPushPlaintext(notification, defaultPayload);
    if (plaintext === null) {
      // This event's identifiers (with the default_payload) are too long even with everything
      // else left out: one event's problem, not the pusher's, and retrying cannot help.
      ctx.logger.error(
        { event_id_bytes: Buffer.byteLength(notification.event_id ?? '') },
        'the event does not fit a Web Push message even without its content and display fields; push dropped',
      );
      return { kind: 'dropped', reason: 'the event does not fit a Web Push message' };
    }

    const headers: Record<string, string> = {
      authorization: this.#vapid.authorization(target.value.url.origin),
      ttl: this.#ttl,
      // RFC 8030 §5.3; Sygnal sends only these two.
      urgency: notification.prio === 'low' ? 'low' : 'normal',
      'content-encoding': 'aes128gcm',
      'content-type': 'application/octet-stream',
    };
    if (device.data.only_last_per_room === true && notification.room_id !== undefined) {
      headers.topic = topicForRoom(notification.room_id);
    }
    const body = encryptAes128gcm(Buffer.from(plaintext, 'utf8'), subscription.p256dh, subscription.auth);

    const answer = await this.#endpoints.post(target.value, headers, body, ctx);
    if (!answer.ok) return answer.outcome;
    return classify(
      answer.value,
      parseRetryAfter(answer.value.headers['retry-after'], this.#deps.clock.now()),
    );
  }

  async close(): Promise<void> {
    await this.#endpoints.close();
  }
}

/**
 * The push service's answer (RFC 8030 §5, REFERENCE §6). Push services explain refusals in the
 * body (FCM, autopush: JSON with a reason), so a short excerpt goes into the error.
 */
function classify(response: OutboundResponse, retryAfterMs: number | undefined): DeliveryOutcome {
  const { status } = response;
  const said = response.body.trim() === '' ? '' : `: ${response.body.trim().slice(0, 200)}`;
  // RFC 8030 §5: 201 Created; some services answer 200 or 202. Any 2xx means accepted.
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  // RFC 8030 §6.2 / autopush, FCM: the subscription expired or was unsubscribed.
  if (status === 404 || status === 410) {
    return { kind: 'rejected', reason: `push service answered ${status}: subscription gone` };
  }
  // RFC 8030 §8.4 (429: too many requests) and server errors pass; Retry-After is honoured.
  if (status === 429 || status >= 500) {
    throw new TemporaryDeliveryError(`push service answered ${status}${said}`, { retryAfterMs });
  }
  // RFC 8030 §7.2: 413 means our message was too big, a bug on our side; other 4xx (400, 401, 403:
  // usually a VAPID key the subscription was not made with) need the operator.
  if (status === 413)
    throw new PermanentDeliveryError(`push service refused the message as too large (413)${said}`);
  throw new PermanentDeliveryError(`push service answered ${status}${said}`);
}
