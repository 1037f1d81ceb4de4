/**
 * Every metric Herald exports, in one place. Labels are bounded: `app` is the config key (a glob
 * stays a glob), never the device's app_id, and never a pushkey. docs/metrics.md is generated from
 * this registry (`npm run gen:docs`) and CI checks that the committed copy matches.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const PREFIX = 'herald_';

export function createMetrics(registry: Registry = new Registry()) {
  const registers = [registry];
  return {
    registry,
    notifyRequests: new Counter({
      name: `${PREFIX}notify_requests_total`,
      help: 'Notify requests answered, by HTTP status.',
      labelNames: ['status'] as const,
      registers,
    }),
    notifyDuration: new Histogram({
      name: `${PREFIX}notify_duration_seconds`,
      help: 'Time from receiving a notify request to answering it.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    deliveries: new Counter({
      name: `${PREFIX}deliveries_total`,
      help:
        'Devices handled, by app, provider type and outcome ' +
        '(delivered, rejected, dropped, duplicate, temporary, permanent, overloaded, bug).',
      labelNames: ['app', 'provider', 'outcome'] as const,
      registers,
    }),
    retries: new Counter({
      name: `${PREFIX}retries_total`,
      help: 'Retries of a push after a temporary provider error.',
      labelNames: ['app', 'provider'] as const,
      registers,
    }),
    inflight: new Gauge({
      name: `${PREFIX}inflight_pushes`,
      help: 'Pushes currently being sent, by app.',
      labelNames: ['app'] as const,
      registers,
    }),
    providerRequestDuration: new Histogram({
      name: `${PREFIX}provider_request_duration_seconds`,
      help: 'Time a push service took to answer one request.',
      labelNames: ['app', 'provider'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    providerResponses: new Counter({
      name: `${PREFIX}provider_responses_total`,
      help: "Push service answers, by HTTP status and the service's reason (or 'network').",
      labelNames: ['app', 'provider', 'status', 'reason'] as const,
      registers,
    }),
    endpointsBlocked: new Counter({
      name: `${PREFIX}endpoints_blocked_total`,
      help: 'Pushes dropped because the endpoint policy refused the endpoint.',
      labelNames: ['app', 'provider', 'reason'] as const,
      registers,
    }),
    tokenRefreshes: new Counter({
      name: `${PREFIX}auth_token_refreshes_total`,
      help: 'Provider auth tokens minted or refreshed (APNs JWT, FCM OAuth2, VAPID), by result.',
      labelNames: ['app', 'provider', 'result'] as const,
      registers,
    }),
    certificateExpiry: new Gauge({
      name: `${PREFIX}apns_certificate_expiry_timestamp_seconds`,
      help: 'When the APNs client certificate of an app expires (Unix time).',
      labelNames: ['app'] as const,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
