/**
 * `type: apns`: Apple Push Notification service over HTTP/2 (REFERENCE §4). The policy lives here:
 * which payload, which headers, what Apple's answer means. Payload building (apns-payload.ts),
 * truncation (apns-truncate.ts), credentials (apns-auth.ts) and the HTTP/2 connection pool shared
 * with FCM (src/net/http2-pool.ts) are separate files.
 *
 * Apple: https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
 */
import { parseRetryAfter } from '../../dispatch/retry.ts';
import { type Device, defaultPayloadOf, isObject, type Notification } from '../../matrix/notification.ts';
import type { Metrics } from '../../metrics/metrics.ts';
import { type Http2Answer, Http2Pool, TransportError } from '../../net/http2-pool.ts';
import type {
  DeliveryOutcome,
  DispatchContext,
  ProviderDeps,
  ProviderModule,
  PushProvider,
} from '../provider.ts';
import { PermanentDeliveryError, TemporaryDeliveryError } from '../provider.ts';
import { classifyApnsAnswer, reasonOf } from './apns-answers.ts';
import { type ApnsAuth, loadApnsAuth } from './apns-auth.ts';
import { APNS_CONFIG_PROPERTIES, type ApnsConfig, apnsBaseUrl } from './apns-config.ts';
import { deviceTokenPath } from './apns-device-token.ts';
import { buildApnsPayload, MAX_SOUND_BYTES, soundName } from './apns-payload.ts';
import { truncateApnsPayload } from './apns-truncate.ts';

export const apnsModule: ProviderModule<ApnsConfig> = {
  type: 'apns',
  configProperties: APNS_CONFIG_PROPERTIES,
  async create(appId, config, deps) {
    const auth = await loadApnsAuth(appId, config, {
      clock: deps.clock,
      logger: deps.logger,
      onMint: (result) => deps.metrics.tokenRefreshes.inc({ app: appId, provider: 'apns', result }),
    });
    if (auth.mode === 'cert') {
      // Sygnal's sygnal_client_cert_expiry: alert on it before Apple starts refusing the connection.
      deps.metrics.certificateExpiry.set({ app: appId }, auth.expiresAt.getTime() / 1000);
    }
    return new ApnsProvider(appId, config, auth, deps);
  },
};

class ApnsProvider implements PushProvider {
  readonly kind = 'apns';
  readonly appId: string;
  readonly #config: ApnsConfig;
  readonly #auth: ApnsAuth;
  readonly #metrics: Metrics;
  readonly #pool: Http2Pool;
  readonly #pathPrefix: string;

  constructor(appId: string, config: ApnsConfig, auth: ApnsAuth, deps: ProviderDeps) {
    this.appId = appId;
    this.#config = config;
    this.#auth = auth;
    this.#metrics = deps.metrics;
    const base = apnsBaseUrl(config);
    this.#pathPrefix = base.pathname.replace(/\/+$/, '');
    this.#pool = new Http2Pool({
      origin: base.origin,
      service: 'APNs',
      clientCert: auth.mode === 'cert' ? { cert: auth.cert, key: auth.key } : undefined,
      proxy: deps.proxy,
      maxSessions: config.max_connections,
      connectTimeoutMs: config.connect_timeout_ms,
      responseTimeoutMs: config.response_timeout_ms,
      pingIntervalMs: config.ping_interval_ms,
      logger: deps.logger,
    });
  }

  async send(notification: Notification, device: Device, ctx: DispatchContext): Promise<DeliveryOutcome> {
    const token = deviceTokenPath(device.pushkey, this.#config.convert_device_token_to_hex);
    if (token === null) {
      ctx.logger.info('pushkey is not a base64 device token (convert_device_token_to_hex is on); rejecting');
      return { kind: 'rejected', reason: 'pushkey is not a base64 device token' };
    }
    const defaults = defaultPayloadOf(device);
    if (!defaults.ok) return { kind: 'rejected', reason: 'data.default_payload is not an object' };
    const sound = soundName(device.tweaks.sound);
    if (sound === undefined && device.tweaks.sound !== undefined) {
      ctx.logger.debug(
        { sound_type: typeof device.tweaks.sound },
        `tweaks.sound is not a sound name (a string of at most ${MAX_SOUND_BYTES} bytes); sending no aps.sound`,
      );
    }
    const payload = buildApnsPayload(notification, {
      sendBadgeCounts: this.#config.send_badge_counts,
      defaultPayload: defaults.payload,
      sound,
    });
    if (payload === null) return { kind: 'dropped', reason: 'nothing to send (no alert and no badge)' };
    const body = truncateApnsPayload(payload);
    if (body === null) {
      throw new PermanentDeliveryError(
        'the APNs payload cannot be cut to 4096 bytes (default_payload too large?)',
      );
    }

    const headers: Record<string, string> = {
      'apns-id': ctx.pushId,
      'apns-topic': this.#auth.topic,
      'apns-priority': notification.prio === 'low' ? '5' : '10',
    };
    // Herald: without a configured push_type, `alert` for alerts (Apple requires the header since
    // iOS 13 and may delay or drop pushes without it); never a guessed `background`.
    const pushType =
      this.#config.push_type ?? (isObject(payload.aps) && 'alert' in payload.aps ? 'alert' : undefined);
    if (pushType !== undefined) headers['apns-push-type'] = pushType;
    const path = `${this.#pathPrefix}/3/device/${token}`;

    let jwt = this.#auth.mode === 'token' ? await this.#auth.tokens.current() : undefined;
    let answer = await this.#post(path, headers, body, jwt, ctx);
    let verdict = classifyApnsAnswer(answer.status, answer.reason);
    if (verdict.kind === 'renew-token' && this.#auth.mode === 'token' && jwt !== undefined) {
      // The one retry inside a provider: our token, not the push, was refused. Same apns-id.
      ctx.logger.info('APNs says the provider token expired; renewing it and sending again');
      jwt = await this.#auth.tokens.renew(jwt);
      answer = await this.#post(path, headers, body, jwt, ctx);
      verdict = classifyApnsAnswer(answer.status, answer.reason);
    }
    const detail = `APNs answered ${answer.status}${answer.reason ? ` ${answer.reason}` : ''}`;
    switch (verdict.kind) {
      case 'delivered':
        return { kind: 'delivered' };
      case 'rejected':
        ctx.logger.info(
          { status: answer.status, reason: answer.reason },
          'APNs says the device token is dead',
        );
        return { kind: 'rejected', reason: detail };
      case 'temporary':
        throw new TemporaryDeliveryError(detail, { retryAfterMs: answer.retryAfterMs });
      default:
        ctx.logger.error(
          { status: answer.status, reason: answer.reason, apns_id: ctx.pushId },
          `${detail}: check this app's APNs configuration (topic, key, certificate, platform)`,
        );
        throw new PermanentDeliveryError(detail);
    }
  }

  /** One HTTP/2 request, with its metrics; a failure without an answer is temporary. */
  async #post(
    path: string,
    headers: Record<string, string>,
    body: string,
    jwt: string | undefined,
    ctx: DispatchContext,
  ): Promise<{ status: number; reason: string; retryAfterMs: number | undefined }> {
    const labels = { app: this.appId, provider: this.kind };
    const started = performance.now();
    let answer: Http2Answer;
    try {
      answer = await this.#pool.request({
        path,
        headers: jwt === undefined ? headers : { ...headers, authorization: `bearer ${jwt}` },
        body,
        signal: ctx.signal,
      });
    } catch (error) {
      const kind = error instanceof TransportError ? error.kind : 'network';
      this.#metrics.providerResponses.inc({ ...labels, status: 'network', reason: kind });
      // A request HTTP/2 refused to send would be refused again: not worth a retry.
      if (kind === 'invalid')
        throw new PermanentDeliveryError(`APNs: ${(error as Error).message}`, { cause: error });
      throw new TemporaryDeliveryError(`APNs: ${(error as Error).message}`, { cause: error });
    } finally {
      this.#metrics.providerRequestDuration.observe(labels, (performance.now() - started) / 1000);
    }
    const reason = answer.status === 200 ? '' : reasonOf(answer.body);
    // Apple's reasons are a short fixed list; anything else is folded so labels stay bounded.
    const reasonLabel = reason === '' || /^[A-Za-z]{1,64}$/.test(reason) ? reason : 'other';
    this.#metrics.providerResponses.inc({ ...labels, status: String(answer.status), reason: reasonLabel });
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], Date.now());
    return { status: answer.status, reason, retryAfterMs };
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
